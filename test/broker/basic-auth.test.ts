// Basic authentication of the platform: both parts must match; the broker is never open.
import { describe, expect, it } from 'vitest';
import { basicAuthChecker } from '../../broker/basic-auth.js';
import { isHallmarkError } from '../../src/errors/index.js';

const check = basicAuthChecker({ username: 'platform', password: 'p4ssw0rd:with-colon' });
const basic = (text: string): string => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;

function accepted(header: string | undefined): boolean {
  try {
    check(header);
    return true;
  } catch (err) {
    if (isHallmarkError(err, 'ERR_BROKER_UNAUTHORIZED')) return false;
    throw err;
  }
}

describe('basicAuthChecker', () => {
  it('accepts the configured username and password (a password may contain ":")', () => {
    expect(accepted(basic('platform:p4ssw0rd:with-colon'))).toBe(true);
    expect(
      accepted(`basic ${Buffer.from('platform:p4ssw0rd:with-colon').toString('base64')}`),
    ).toBe(true);
  });

  it('refuses everything else', () => {
    const refusedHeaders = [
      undefined,
      '',
      'Basic',
      'Basic !!!!',
      `Bearer ${Buffer.from('platform:p4ssw0rd:with-colon').toString('base64')}`,
      basic('platform'),
      basic('platform:'),
      basic(':p4ssw0rd:with-colon'),
      basic('platform:p4ssw0rd'),
      basic('platform:p4ssw0rd:with-colon '),
      basic('Platform:p4ssw0rd:with-colon'),
      basic('platformx:p4ssw0rd:with-colon'),
    ];
    for (const header of refusedHeaders) expect(accepted(header), String(header)).toBe(false);
  });

  it('cannot be built without credentials', () => {
    expect(() => basicAuthChecker({ username: '', password: 'x'.repeat(16) })).toThrow();
    expect(() => basicAuthChecker({ username: 'platform', password: '' })).toThrow();
  });
});
