// The session pool against a real SoftHSM2 token: start-up errors, lost sessions, a vanished token.
import { verify } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  HsmUnavailableError,
  TokenKeys,
  TokenPin,
  TokenSessionPool,
  readTokenPin,
} from '../../src/hsm/index.js';
import type { TokenSessionPoolOptions } from '../../src/hsm/index.js';
import { describeWithSoftHsm } from './describe-with-softhsm.js';
import { USER_PIN, createSoftHsmToken, type SoftHsmToken } from './softhsm.js';
import { witness } from './token-witness.js';
import { ManualClock } from '../doubles/manual-clock.js';

const data = Buffer.from('signed while the token comes and goes');

/** The variable a start-up failure names (ConfigError), or the error when it is not one. */
async function variableOf(opening: Promise<unknown>): Promise<unknown> {
  const err = await opening.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toMatchObject({ code: 'ERR_CONFIG_INVALID' });
  return (err as { variable: string }).variable;
}

describeWithSoftHsm('token session pool on SoftHSM2', () => {
  let token: SoftHsmToken;
  let clock: ManualClock;
  let options: TokenSessionPoolOptions;
  const pools: TokenSessionPool[] = [];

  const open = async (overrides: Partial<TokenSessionPoolOptions> = {}) => {
    const pool = await TokenSessionPool.open({ ...options, ...overrides });
    pools.push(pool);
    return pool;
  };

  beforeEach(async () => {
    token = await createSoftHsmToken();
    clock = new ManualClock();
    options = {
      modulePath: token.modulePath,
      tokenLabel: token.label,
      pin: await readTokenPin(token.pinFile),
      sessions: 2,
      clock,
      retryIntervalMs: 5_000,
    };
  });

  afterEach(async () => {
    for (const pool of pools.splice(0)) await pool.close();
    await token.remove();
  });

  it('stops start-up naming the variable: wrong PIN, unknown token, unloadable module', async () => {
    expect(await variableOf(open({ pin: new TokenPin('0000-wrong') }))).toBe(
      'HALLMARK_PKCS11_PIN_FILE',
    );
    expect(await variableOf(open({ tokenLabel: 'no-such-token' }))).toBe('HALLMARK_PKCS11_TOKEN');
    expect(await variableOf(open({ modulePath: path.join(token.dir, 'missing.so') }))).toBe(
      'HALLMARK_PKCS11_MODULE',
    );
    // Not a PKCS#11 library at all.
    expect(await variableOf(open({ modulePath: token.pinFile }))).toBe('HALLMARK_PKCS11_MODULE');
    // After all that, the right settings still work in the same process.
    const keys = new TokenKeys(await open());
    const signer = await keys.generate({ kind: 'ca', id: 'after-failures' }, 'ec-p256');
    expect(verify('sha256', data, signer.publicKey, await signer.sign(data))).toBe(true);
  });

  it('names the token when a key the database points to is not in it', async () => {
    const keys = new TokenKeys(await open());
    await keys.generate({ kind: 'ca', id: 'present' }, 'ec-p256');
    const present = await keys.signersAtStart([{ kind: 'ca', id: 'present' }]);
    expect(present).toHaveLength(1);
    expect(
      await variableOf(
        keys.signersAtStart([
          { kind: 'ca', id: 'present' },
          { kind: 'ca', id: 'absent' },
        ]),
      ),
    ).toBe('HALLMARK_PKCS11_TOKEN');
  });

  it('reads the PIN from its file and keeps it out of errors, JSON and inspection', async () => {
    const pin = await readTokenPin(token.pinFile);
    expect(pin.reveal()).toBe(USER_PIN); // the trailing newline is not part of it
    for (const shown of [inspect(pin), JSON.stringify({ pin }), `${pin}`]) {
      expect(shown).not.toContain(USER_PIN);
    }
    const wrong = await open({ pin: new TokenPin('0000-wrong') }).catch((e: Error) => e);
    expect(`${(wrong as Error).message} ${inspect(wrong)}`).not.toContain('0000-wrong');

    const empty = path.join(token.dir, 'empty.pin');
    await writeFile(empty, '\n');
    const twoLines = path.join(token.dir, 'two.pin');
    await writeFile(twoLines, 'a\nb\n');
    for (const file of [empty, twoLines, path.join(token.dir, 'none.pin')]) {
      expect(await variableOf(readTokenPin(file))).toBe('HALLMARK_PKCS11_PIN_FILE');
    }
  });

  it('signs in parallel on more requests than sessions', async () => {
    const keys = new TokenKeys(await open());
    const signer = await keys.generate({ kind: 'ca', id: 'parallel' }, 'ec-p256');
    const signatures = await Promise.all(
      Array.from({ length: 20 }, (_, i) => signer.sign(Buffer.from(`request ${i}`))),
    );
    signatures.forEach((signature, i) =>
      expect(verify('sha256', Buffer.from(`request ${i}`), signer.publicKey, signature)).toBe(true),
    );
  });

  it('opens new sessions when the token closes them (CKR_SESSION_HANDLE_INVALID)', async () => {
    const pool = await open();
    const signer = await new TokenKeys(pool).generate({ kind: 'ca', id: 'closed' }, 'ec-p256');
    // Another application of this process closes every session on the slot, as a token reset does.
    await witness(token, (api, _session, slot) => api.C_CloseAllSessions(slot));
    expect(verify('sha256', data, signer.publicKey, await signer.sign(data))).toBe(true);
    expect(pool.status()).toEqual({ available: true, reason: undefined });
  });

  it('logs in again when the login is lost (CKR_USER_NOT_LOGGED_IN state)', async () => {
    const pool = await open();
    const signer = await new TokenKeys(pool).generate({ kind: 'ca', id: 'relogin' }, 'ec-p384');
    await witness(token, (api, session) => api.C_Logout(session), { login: false });
    expect(verify('sha384', data, signer.publicKey, await signer.sign(data))).toBe(true);
  });

  it('fails closed while the token is gone, reports not ready, and recovers when it is back', async () => {
    const pool = await open();
    const signer = await new TokenKeys(pool).generate({ kind: 'ca', id: 'vanish' }, 'ec-p256');
    expect(await pool.readiness()).toEqual({ ready: true });

    await token.hide();
    const failure = await signer.sign(data).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(HsmUnavailableError);
    expect(failure).toMatchObject({ code: 'ERR_CA_UNAVAILABLE', reason: 'token-unavailable' });
    expect(pool.status().available).toBe(false);
    const notReady = await pool.readiness();
    expect(notReady.ready).toBe(false);
    expect(notReady.reason).toMatch(/no token labelled/);

    // Back, but within the retry interval: still failing fast, no reconnect attempted.
    await token.restore();
    await expect(signer.sign(data)).rejects.toMatchObject({ reason: 'token-unavailable' });
    expect((await pool.readiness()).ready).toBe(false);

    clock.advance(5_000);
    expect(await pool.readiness()).toEqual({ ready: true });
    expect(verify('sha256', data, signer.publicKey, await signer.sign(data))).toBe(true);
  });

  it('notices a vanished token on the readiness probe alone, and an operation recovers it', async () => {
    const pool = await open();
    const signer = await new TokenKeys(pool).generate({ kind: 'ca', id: 'probe' }, 'ec-p256');
    await token.hide();
    expect((await pool.readiness()).ready).toBe(false);
    await token.restore();
    clock.advance(5_000);
    expect(verify('sha256', data, signer.publicKey, await signer.sign(data))).toBe(true);
    expect(pool.status().available).toBe(true);
  });

  it('stops retrying a PIN the token refuses after a reset, and says so', async () => {
    const pool = await open();
    const signer = await new TokenKeys(pool).generate({ kind: 'ca', id: 'pin' }, 'ec-p256');
    await witness(token, (api, session, slot) => {
      api.C_SetPIN(session, USER_PIN, '9999-changed');
      api.C_CloseAllSessions(slot);
    });
    await expect(signer.sign(data)).rejects.toMatchObject({ reason: 'pin-rejected' });
    expect(await pool.readiness()).toMatchObject({ ready: false, reason: /refused the PIN/ });
    // Even with the PIN set back, the pool never tries it again (each try could count towards a
    // lockout on a real HSM): a restart, reading the PIN file again, is the way back.
    await witness(
      token,
      (api, session) => {
        api.C_Login(session, 1, '9999-changed');
        api.C_SetPIN(session, '9999-changed', USER_PIN);
      },
      { login: false },
    );
    clock.advance(60_000);
    await expect(signer.sign(data)).rejects.toMatchObject({ reason: 'pin-rejected' });
    expect((await pool.readiness()).ready).toBe(false);
    await pool.close();
    const restarted = new TokenKeys(await open());
    const again = await restarted.signer({ kind: 'ca', id: 'pin' });
    expect(verify('sha256', data, again.publicKey, await again.sign(data))).toBe(true);
  });

  it('refuses operations once closed', async () => {
    const pool = await open();
    const keys = new TokenKeys(pool);
    await pool.close();
    await expect(keys.list()).rejects.toMatchObject({ reason: 'closed' });
    expect(await pool.readiness()).toMatchObject({ ready: false });
  });
});
