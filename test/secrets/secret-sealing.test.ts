// Sealing one version: AAD binds path and version; any mismatch fails closed as ERR_SECRET_INTEGRITY.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MasterKey } from '../../src/crypto/index.js';
import { openSecretVersion, sealSecretVersion, secretAad } from '../../src/secrets/index.js';
import { codeOf } from '../helpers/error-code.js';

const master = new MasterKey(randomBytes(32));

describe('secret sealing', () => {
  it('binds the AAD to path and version', () => {
    expect(secretAad('app/db', 3)).toBe('secret|app/db|3');
  });

  it('opens what it sealed, and uses a fresh data key each time', () => {
    const a = sealSecretVersion(master, 'app/db', 1, Buffer.from('value'));
    const b = sealSecretVersion(master, 'app/db', 1, Buffer.from('value'));
    expect(openSecretVersion(master, 'app/db', 1, a)).toBe('value');
    expect(a.wrappedKey.equals(b.wrappedKey)).toBe(false);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
    expect(a.ciphertext.includes(Buffer.from('value'))).toBe(false);
  });

  it('fails closed for another path, another version, swapped parts or another master key', () => {
    const one = sealSecretVersion(master, 'app/one', 1, Buffer.from('one'));
    const two = sealSecretVersion(master, 'app/two', 1, Buffer.from('two'));
    const cases: [string, () => unknown][] = [
      ['other path', () => openSecretVersion(master, 'app/two', 1, one)],
      ['other version', () => openSecretVersion(master, 'app/one', 2, one)],
      [
        'swapped ciphertext',
        () => openSecretVersion(master, 'app/one', 1, { ...one, ciphertext: two.ciphertext }),
      ],
      [
        'swapped key',
        () => openSecretVersion(master, 'app/one', 1, { ...one, wrappedKey: two.wrappedKey }),
      ],
      ['both swapped', () => openSecretVersion(master, 'app/one', 1, two)],
      ['other master', () => openSecretVersion(new MasterKey(randomBytes(32)), 'app/one', 1, one)],
      [
        'flipped bit',
        () => {
          const ciphertext = Buffer.from(one.ciphertext);
          const last = ciphertext.length - 1;
          ciphertext[last] = (ciphertext[last] as number) ^ 1;
          return openSecretVersion(master, 'app/one', 1, { ...one, ciphertext });
        },
      ],
      [
        'truncated',
        () =>
          openSecretVersion(master, 'app/one', 1, {
            ...one,
            ciphertext: one.ciphertext.subarray(0, 10),
          }),
      ],
    ];
    for (const [name, open] of cases) {
      expect([name, codeOf(open)]).toEqual([name, 'ERR_SECRET_INTEGRITY']);
    }
  });

  it('refuses an authentic plaintext that is not UTF-8', () => {
    const sealed = sealSecretVersion(master, 'app/bin', 1, Buffer.from([0xff, 0xfe]));
    expect(codeOf(() => openSecretVersion(master, 'app/bin', 1, sealed))).toBe(
      'ERR_SECRET_INTEGRITY',
    );
  });
});
