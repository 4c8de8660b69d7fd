// GET /v1/audit/checkpoints (admin, paginated) and GET /v1/audit/keys (public) on a real server.
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';

describe('the checkpoint routes', () => {
  let stack: HallmarkStack;
  let token: string;

  beforeAll(async () => {
    stack = await startStack({
      env: { HALLMARK_AUDIT_CHECKPOINT_INTERVAL: '1s' },
      checkpointTicker: false,
    });
    const admin = stack.server.admin;
    const login = await stack.call('POST', '/v1/authn/apikey', {
      body: { id: 'admin', api_key: admin.created ? admin.key : '' },
    });
    token = login.body['token'] as string;
  });
  afterAll(() => stack.close());

  it('publishes the checkpoint keys to anyone, public members only', async () => {
    const { status, body } = await stack.call('GET', '/v1/audit/keys');
    expect(status).toBe(200);
    const keys = (body as unknown as JSONWebKeySet).keys;
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(keys[0]).not.toHaveProperty('d');
  });

  it('lists checkpoints after a seq to the admin, in pages, each verifying against the keys', async () => {
    const signed: number[] = [];
    for (let i = 0; i < 3; i++) {
      await stack.call('GET', '/v1/audit?limit=1', {
        headers: { authorization: `Bearer ${token}` },
      });
      await stack.server.audit.settle();
      const checkpoint = await stack.server.checkpoints.checkpointer.round();
      signed.push(checkpoint!.seq);
      await new Promise((resolve) => setTimeout(resolve, 1_050));
      // A denied read moves the head for the next round.
      await stack.call('GET', '/v1/audit/checkpoints');
    }
    const auth = { authorization: `Bearer ${token}` };
    const page = await stack.call('GET', '/v1/audit/checkpoints?limit=2', { headers: auth });
    expect(page.status).toBe(200);
    const checkpoints = page.body['checkpoints'] as { seq: number; jws: string }[];
    expect(checkpoints.map((c) => c.seq)).toEqual(signed.slice(0, 2));
    expect(page.body['next']).toBe(signed[1]);
    const rest = await stack.call('GET', `/v1/audit/checkpoints?after=${signed[1]}`, {
      headers: auth,
    });
    expect((rest.body['checkpoints'] as { seq: number }[]).map((c) => c.seq)).toEqual([signed[2]]);
    const jwks = (await stack.call('GET', '/v1/audit/keys')).body as unknown as JSONWebKeySet;
    for (const checkpoint of [
      ...checkpoints,
      ...(rest.body['checkpoints'] as typeof checkpoints),
    ]) {
      const { payload } = await compactVerify(checkpoint.jws, createLocalJWKSet(jwks));
      expect(JSON.parse(Buffer.from(payload).toString()).seq).toBe(checkpoint.seq);
    }
    const metrics = (await stack.call('GET', '/metrics')).body.text ?? '';
    expect(metrics).toContain(`hallmark_audit_checkpoint_seq ${signed[2]}`);
    expect(metrics).toMatch(/hallmark_audit_checkpoint_timestamp_seconds \d{10}/);
    expect(metrics).toContain('hallmark_audit_checkpoint_errors_total 0');
  });

  it('refuses anyone but the admin, and a bad cursor, with an audit row each', async () => {
    const anonymous = await stack.call('GET', '/v1/audit/checkpoints');
    expect(anonymous.status).toBe(401);
    const bad = await stack.call('GET', '/v1/audit/checkpoints?after=-1', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.code).toBe('ERR_REQUEST_INVALID');
    await stack.server.audit.settle();
    const rows = await stack.server.db.query<{ outcome: string; reason: string }>(
      `SELECT outcome, reason FROM audit_log WHERE target = 'audit/checkpoints' OR action = 'http.get'
       ORDER BY seq DESC LIMIT 2`,
    );
    expect(rows.rows.map((r) => r.outcome)).toEqual(['denied', 'denied']);
  });
});
