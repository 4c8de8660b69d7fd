// POST /v1/apikeys/admin/rotate: a new admin key, the old one and its tokens refused, audited.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';

describe('admin API key rotation', () => {
  let stack: HallmarkStack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => stack.close());

  const login = async (id: string, key: string) =>
    stack.call('POST', '/v1/authn/apikey', { body: { id, api_key: key } });
  const bearer = (token: unknown) => ({ authorization: `Bearer ${String(token)}` });
  const hash = async () =>
    (
      await stack.server.db.query<{ key_hash: Buffer }>(
        "SELECT key_hash FROM api_keys WHERE id = 'admin'",
      )
    ).rows[0]!.key_hash.toString('hex');

  it('refuses a caller that is not the admin, audited, changing nothing', async () => {
    const appKey = await stack.server.authn.createApiKey({ id: 'app-1', role: 'app' }, 'test');
    const token = (await login('app-1', appKey)).body['token'];
    const before = await hash();
    const refused = await stack.call('POST', '/v1/apikeys/admin/rotate', {
      headers: bearer(token),
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error?.code).toBe('ERR_AUTHN_NOT_ADMIN');
    expect(await hash()).toBe(before);
    const row = await stack.server.db.query<{ actor: string; outcome: string; reason: string }>(
      "SELECT actor, outcome, reason FROM audit_log WHERE action = 'authn.api_key.rotated' ORDER BY seq DESC LIMIT 1",
    );
    expect(row.rows[0]).toEqual({
      actor: 'key:app-1',
      outcome: 'denied',
      reason: 'ERR_AUTHN_NOT_ADMIN',
    });
  });

  it('gives a new key once; the old key and every token it obtained stop working', async () => {
    const oldKey = (await readFile(stack.server.admin.file, 'utf8')).trim();
    const token = (await login('admin', oldKey)).body['token'];
    const rotated = await stack.call('POST', '/v1/apikeys/admin/rotate', {
      headers: bearer(token),
    });
    expect(rotated.status).toBe(200);
    const newKey = rotated.body['api_key'] as string;
    expect(newKey).toMatch(/^hmk_[A-Za-z0-9_-]{43}$/);
    expect((await login('admin', oldKey)).body.error?.code).toBe('ERR_AUTHN_API_KEY_INVALID');
    const reuse = await stack.call('GET', '/v1/policy', { headers: bearer(token) });
    expect(reuse.body.error?.code).toBe('ERR_AUTHN_TOKEN_REVOKED');
    await new Promise((r) => setTimeout(r, 1_100)); // a token of the rotation's own second is revoked too
    const fresh = await login('admin', newKey);
    expect(fresh.status).toBe(200);
    expect(
      (await stack.call('GET', '/v1/policy', { headers: bearer(fresh.body['token']) })).status,
    ).toBe(200);
    const rows = await stack.server.db.query<{ actor: string; target: string; outcome: string }>(
      "SELECT actor, target, outcome FROM audit_log WHERE action = 'authn.api_key.rotated' AND outcome = 'success'",
    );
    expect(rows.rows).toEqual([{ actor: 'key:admin', target: 'key:admin', outcome: 'success' }]);
    const text = JSON.stringify((await stack.server.db.query('SELECT * FROM audit_log')).rows);
    expect(text).not.toContain(newKey);
  });
});
