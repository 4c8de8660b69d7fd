// X-Broker-API-Version: 2.13 and later 2.x minors served, everything else 412.
import { describe, expect, it } from 'vitest';
import { checkApiVersion } from '../../broker/api-version.js';
import { isHallmarkError } from '../../src/errors/index.js';
import { errorOf } from '../helpers/error-code.js';

function refused(header: string | string[] | undefined): boolean {
  try {
    checkApiVersion(header);
    return false;
  } catch (err) {
    if (isHallmarkError(err, 'ERR_BROKER_API_VERSION_UNSUPPORTED')) return true;
    throw err;
  }
}

describe('checkApiVersion', () => {
  it('serves 2.13 through 2.17 and later minors of major 2', () => {
    for (const version of ['2.13', '2.14', '2.15', '2.16', '2.17', '2.18', '2.100', ' 2.17 ']) {
      expect(refused(version), version).toBe(false);
    }
  });

  it('returns the version, which shapes the answer', () => {
    expect(checkApiVersion('2.13')).toEqual({ major: 2, minor: 13 });
    expect(checkApiVersion(' 2.17 ')).toEqual({ major: 2, minor: 17 });
    expect(checkApiVersion('2.100')).toEqual({ major: 2, minor: 100 });
  });

  it('refuses missing, older, other majors and malformed versions', () => {
    for (const version of [
      undefined,
      '',
      '2.12',
      '2.9',
      '2.1',
      '1.99',
      '3.0',
      '02.13x',
      '2',
      '2.',
      '.13',
      'v2.17',
      '2.17.0',
      '2,17',
      '99999.1',
    ]) {
      expect(refused(version), String(version)).toBe(true);
    }
    expect(refused(['2.17', '2.17'])).toBe(true);
  });

  it('tells the operator which version to use', () => {
    const { message } = errorOf(() => checkApiVersion('2.12')) as Error;
    expect(message).toContain('2.13');
    expect(message).toContain('2.17');
  });
});
