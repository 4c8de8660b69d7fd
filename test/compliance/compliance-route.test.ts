// POST /v1/compliance refusals: not the admin, manifests that do not parse, a malformed audit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';
import { adminToken } from './compliance-fixture.js';

describe('POST /v1/compliance refusals', () => {
  let stack: HallmarkStack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => stack.close());

  const rows = async () =>
    (
      await stack.server.db.query<{ actor: string; outcome: string; reason: string }>(
        "SELECT actor, outcome, reason FROM audit_log WHERE action = 'compliance.report' ORDER BY seq",
      )
    ).rows;

  it('refuses a caller that is not the admin, with an audit row', async () => {
    const key = await stack.server.authn.createApiKey({ id: 'auditor', role: 'app' }, 'test');
    const login = await stack.call('POST', '/v1/authn/apikey', {
      body: { id: 'auditor', api_key: key },
    });
    const refused = await stack.call('GET', '/v1/compliance', {
      headers: { authorization: `Bearer ${String(login.body['token'])}` },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error?.code).toBe('ERR_AUTHN_NOT_ADMIN');
    expect((await rows()).at(-1)).toEqual({
      actor: 'key:auditor',
      outcome: 'denied',
      reason: 'ERR_AUTHN_NOT_ADMIN',
    });
  });

  it('refuses manifests that are not YAML with ERR_COMPLIANCE_INPUT_INVALID, naming the file', async () => {
    const token = await adminToken(stack);
    const refused = await stack.call('POST', '/v1/compliance', {
      headers: { authorization: `Bearer ${token}` },
      body: {
        manifests: { source: 'x/', files: [{ path: 'broken.yaml', content: 'a: [1, 2\nb: }' }] },
      },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      code: 'ERR_COMPLIANCE_INPUT_INVALID',
      message: expect.stringMatching(/broken\.yaml/),
    });
    expect((await rows()).at(-1)).toMatchObject({
      actor: 'key:admin',
      outcome: 'denied',
      reason: 'ERR_COMPLIANCE_INPUT_INVALID',
    });
    const bomb = `a: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from(
      { length: 8 },
      (_, i) =>
        `${'b'.repeat(i + 1)}: &${'b'.repeat(i + 1)} [${Array(10)
          .fill(i === 0 ? '*a' : `*${'b'.repeat(i)}`)
          .join(', ')}]`,
    ).join('\n')}\n`;
    const bombed = await stack.call('POST', '/v1/compliance', {
      headers: { authorization: `Bearer ${token}` },
      body: { manifests: { source: 'x/', files: [{ path: 'bomb.yaml', content: bomb }] } },
    });
    expect(bombed.body.error?.code).toBe('ERR_COMPLIANCE_INPUT_INVALID');
  });

  it('refuses a dependency audit that does not match the schema', async () => {
    const token = await adminToken(stack);
    const refused = await stack.call('POST', '/v1/compliance', {
      headers: { authorization: `Bearer ${token}` },
      body: {
        dependencies: {
          ran: true,
          tool: 'npm',
          auditedAt: 1,
          packageVersion: '0.1.0',
          lockfileSha256: 'nope',
        },
      },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error?.code).toBe('ERR_REQUEST_INVALID');
    expect((await rows()).filter((r) => r.outcome === 'success')).toEqual([]);
  });
});
