// X-Broker-API-Originating-Identity: decoded into the audit actor, malformed → 400 with no state change.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOriginatingIdentity } from '../../broker/originating-identity.js';
import { SERVICE_ID } from '../../broker/index.js';
import { isHallmarkError } from '../../src/errors/index.js';
import { startBrokerHarness, type BrokerHarness } from './helpers/broker-harness.js';
import {
  base64Json,
  CLOUD_FOUNDRY,
  DELETE_QUERY,
  KUBERNETES,
  osbHeaders,
} from './helpers/osb-platforms.js';

// The header values printed in the OSB 2.17 profile (spec.md "Originating Identity", profile.md).
const SPEC_CF =
  'cloudfoundry eyANCiAgInVzZXJfaWQiOiAiNjgzZWE3NDgtMzA5Mi00ZmY0LWI2NTYtMzljYWNjNGQ1MzYwIg0KfQ==';
const SPEC_K8S =
  'kubernetes ew0KICAidXNlcm5hbWUiOiAiZHVrZSIsDQogICJ1aWQiOiAiYzJkZGUyNDItNWNlNC0xMWU3LTk4OGMtMDAwYzI5NDZmMTRmIiwNCiAgImdyb3VwcyI6IFsgImFkbWluIiwgImRldiIgXSwNCiAgImV4dHJhIjogew0KICAgICJteWRhdGEiOiBbICJkYXRhMSIsICJkYXRhMyIgXQ0KICB9DQp9';

describe('parseOriginatingIdentity', () => {
  it('decodes the spec examples', () => {
    expect(parseOriginatingIdentity(SPEC_CF)).toMatchObject({
      platform: 'cloudfoundry',
      properties: { user_id: '683ea748-3092-4ff4-b656-39cacc4d5360' },
      actor: 'osb:cloudfoundry:user_id=683ea748-3092-4ff4-b656-39cacc4d5360',
    });
    expect(parseOriginatingIdentity(SPEC_K8S)).toMatchObject({
      platform: 'kubernetes',
      properties: { username: 'duke', groups: ['admin', 'dev'] },
      actor:
        'osb:kubernetes:username=duke,uid=c2dde242-5ce4-11e7-988c-000c2946f14f,groups=admin|dev',
    });
  });

  it('is absent when the header is', () => {
    expect(parseOriginatingIdentity(undefined)).toBeUndefined();
  });

  it('escapes delimiters so a user name cannot forge fields, keeps ":" "@" "/" readable', () => {
    expect(
      parseOriginatingIdentity(`cloudfoundry ${base64Json({ user_id: 'a,b=c|d%e f' })}`)?.actor,
    ).toBe('osb:cloudfoundry:user_id=a%2Cb%3Dc%7Cd%25e%20f');
    expect(
      parseOriginatingIdentity(
        `kubernetes ${base64Json({ username: 'system:serviceaccount:ns:sa', uid: '' })}`,
      )?.actor,
    ).toBe('osb:kubernetes:username=system:serviceaccount:ns:sa');
    expect(
      parseOriginatingIdentity(`cloudfoundry ${base64Json({ user_id: 'ä@x.org/1' })}`)?.actor,
    ).toBe('osb:cloudfoundry:user_id=%C3%A4@x.org/1');
  });

  it('lists the scalar properties of other platforms in key order', () => {
    expect(
      parseOriginatingIdentity(
        `openshift ${base64Json({ user: 'kim', admin: true, n: 2, deep: { x: 1 } })}`,
      )?.actor,
    ).toBe('osb:openshift:admin=true,n=2,user=kim');
    expect(parseOriginatingIdentity(`sm ${base64Json({})}`)?.actor).toBe('osb:sm');
  });

  it('bounds the actor', () => {
    const actor = parseOriginatingIdentity(
      `cloudfoundry ${base64Json({ user_id: 'u'.repeat(2_000) })}`,
    )?.actor;
    expect(actor?.length).toBe(512);
  });

  const malformed: [string, string | string[]][] = [
    ['no value', 'cloudfoundry'],
    ['no platform', ` ${base64Json({ user_id: 'x' })}`],
    ['a platform with odd characters', `cloud/foundry ${base64Json({ user_id: 'x' })}`],
    ['a value that is not Base64', 'cloudfoundry {"user_id":"x"}'],
    [
      'Base64 with a stray character',
      `cloudfoundry ${base64Json({ user_id: 'x' }).slice(0, 8)}*${base64Json({ user_id: 'x' }).slice(8)}`,
    ],
    [
      'Base64 of text that is not JSON',
      `cloudfoundry ${Buffer.from('user_id=x').toString('base64')}`,
    ],
    [
      'Base64 of bytes that are not UTF-8',
      `cloudfoundry ${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64')}`,
    ],
    ['a JSON array', `cloudfoundry ${base64Json([{ user_id: 'x' }])}`],
    ['a JSON string', `cloudfoundry ${base64Json('x')}`],
    ['JSON null', `cloudfoundry ${base64Json(null)}`],
    ['Cloud Foundry without user_id', `cloudfoundry ${base64Json({ user: 'x' })}`],
    ['Cloud Foundry with an empty user_id', `cloudfoundry ${base64Json({ user_id: '' })}`],
    ['Kubernetes without username', `kubernetes ${base64Json({ uid: 'x', groups: [] })}`],
    [
      'Kubernetes groups that are not strings',
      `kubernetes ${base64Json({ username: 'x', groups: [1] })}`,
    ],
    [
      'Kubernetes extra that is not string lists',
      `kubernetes ${base64Json({ username: 'x', extra: { a: 'b' } })}`,
    ],
    ['the header twice', [SPEC_CF, SPEC_CF]],
    ['a huge header', `cloudfoundry ${base64Json({ user_id: 'x'.repeat(9_000) })}`],
  ];
  for (const [name, header] of malformed) {
    it(`refuses ${name}`, () => {
      let thrown: unknown;
      try {
        parseOriginatingIdentity(header);
      } catch (err) {
        thrown = err;
      }
      expect(isHallmarkError(thrown, 'ERR_BROKER_ORIGINATING_IDENTITY_INVALID')).toBe(true);
    });
  }
});

describe('originating identity over HTTP', () => {
  let h: BrokerHarness;
  beforeAll(async () => {
    h = await startBrokerHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a malformed header is 400 on every changing call, with no state change and a denied audit row', async () => {
    const instanceId = randomUUID();
    const bindingId = randomUUID();
    const path = `/v2/service_instances/${instanceId}`;
    expect(
      (
        await h.call('PUT', path, {
          headers: osbHeaders(CLOUD_FOUNDRY),
          body: CLOUD_FOUNDRY.provisionBody(),
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await h.call('PUT', `${path}/service_bindings/${bindingId}`, {
          headers: osbHeaders(CLOUD_FOUNDRY),
          body: CLOUD_FOUNDRY.bindBody(),
        })
      ).status,
    ).toBe(201);
    const bad = {
      ...osbHeaders(CLOUD_FOUNDRY),
      'x-broker-api-originating-identity': 'cloudfoundry not-base64!',
    };
    const calls: ['PUT' | 'PATCH' | 'DELETE', string, unknown][] = [
      ['PUT', `/v2/service_instances/${randomUUID()}`, CLOUD_FOUNDRY.provisionBody()],
      ['PATCH', path, { service_id: SERVICE_ID, parameters: { secrets: { a: 'b' } } }],
      ['PUT', `${path}/service_bindings/${randomUUID()}`, CLOUD_FOUNDRY.bindBody()],
      ['DELETE', `${path}/service_bindings/${bindingId}?${DELETE_QUERY}`, undefined],
      ['DELETE', `${path}?${DELETE_QUERY}`, undefined],
    ];
    for (const [method, url, body] of calls) {
      const before = await h.state();
      const seen = (await h.auditRows()).length;
      const reply = await h.call(method, url, { headers: bad, body });
      expect(reply.status, `${method} ${url}`).toBe(400);
      expect(reply.body['description']).toContain('X-Broker-API-Originating-Identity');
      expect(await h.state()).toEqual(before);
      const rows = (await h.auditRows()).slice(seen);
      expect(rows).toEqual([
        expect.objectContaining({
          actor: 'osb:platform',
          outcome: 'denied',
          reason: 'ERR_BROKER_ORIGINATING_IDENTITY_INVALID',
        }),
      ]);
    }
  });

  it('each call is audited with the decoded user and the platform request identity', async () => {
    const instanceId = randomUUID();
    const path = `/v2/service_instances/${instanceId}`;
    const sent: [string, Record<string, string>][] = [];
    const call = async (
      platform: typeof CLOUD_FOUNDRY,
      method: 'PUT' | 'PATCH' | 'GET' | 'DELETE',
      url: string,
      body?: unknown,
    ): Promise<number> => {
      const headers = osbHeaders(platform);
      sent.push([platform.actor, headers]);
      return (await h.call(method, url, { headers, body })).status;
    };
    expect(await call(KUBERNETES, 'PUT', path, KUBERNETES.provisionBody())).toBe(201);
    expect(
      await call(CLOUD_FOUNDRY, 'PATCH', path, {
        service_id: SERVICE_ID,
        parameters: { secrets: { k: 'v' } },
      }),
    ).toBe(200);
    expect(
      await call(KUBERNETES, 'PUT', path, {
        ...KUBERNETES.provisionBody(),
        parameters: { secrets: { other: 'x' } },
      }),
    ).toBe(409);
    expect(await call(CLOUD_FOUNDRY, 'GET', path)).toBe(200);
    expect(await call(KUBERNETES, 'DELETE', `${path}?${DELETE_QUERY}`)).toBe(200);
    const rows = (await h.auditRows()).filter((row) => row.target.startsWith(`osb/${instanceId}`));
    expect(rows.map((row) => [row.actor, row.request_id])).toEqual(
      sent.map(([actor, headers]) => [actor, headers['x-broker-api-request-identity']]),
    );
    expect(rows.map((row) => `${row.action}:${row.outcome}:${row.reason}`)).toEqual([
      'osb.provision:success:',
      'osb.update:success:',
      'osb.provision:denied:ERR_BROKER_INSTANCE_CONFLICT',
      'osb.instance.fetch:success:',
      'osb.deprovision:success:',
    ]);
  });

  it('calls without a user (catalog refresh) are audited as the platform; refused credentials as anonymous', async () => {
    const seen = (await h.auditRows()).length;
    expect(
      (await h.call('GET', '/v2/catalog', { headers: osbHeaders(CLOUD_FOUNDRY, false) })).status,
    ).toBe(200);
    expect(
      (await h.call('GET', '/v2/catalog', { headers: osbHeaders(CLOUD_FOUNDRY), auth: null }))
        .status,
    ).toBe(401);
    const rows = (await h.auditRows()).slice(seen);
    expect(rows.map((row) => [row.action, row.actor, row.outcome, row.reason])).toEqual([
      ['osb.catalog', 'osb:platform', 'success', ''],
      ['osb.catalog', 'anonymous', 'denied', 'ERR_BROKER_UNAUTHORIZED'],
    ]);
  });
});
