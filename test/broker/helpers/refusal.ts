// Shared fixture of the status-code tests: an instance with a binding, and the refusal check.
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { BrokerHarness, CallOptions, Reply } from './broker-harness.js';
import { CLOUD_FOUNDRY, osbHeaders } from './osb-platforms.js';

export const instancePath = (id: string): string => `/v2/service_instances/${id}`;
export const bindingPath = (id: string, bid: string): string =>
  `${instancePath(id)}/service_bindings/${bid}`;
export const provisionBody = (
  secrets: Record<string, string> = { a: '1' },
): Record<string, unknown> => ({
  ...CLOUD_FOUNDRY.provisionBody(),
  parameters: { secrets },
});
export const headers = (): Record<string, string> => osbHeaders(CLOUD_FOUNDRY);

/** Ids of the fixture instance and binding, fixed when a test file loads (tables use them). */
export interface Fixture {
  readonly existing: string;
  readonly existingBinding: string;
}

/** Fresh fixture ids. */
export function fixtureIds(): Fixture {
  return { existing: randomUUID(), existingBinding: randomUUID() };
}

/** Provisions the fixture instance with its API-key binding. */
export async function provisionFixture(h: BrokerHarness, fixture: Fixture): Promise<void> {
  const { existing, existingBinding } = fixture;
  const created = await h.call('PUT', instancePath(existing), {
    headers: headers(),
    body: provisionBody(),
  });
  expect(created.status).toBe(201);
  const bound = await h.call('PUT', bindingPath(existing, existingBinding), {
    headers: headers(),
    body: CLOUD_FOUNDRY.bindBody(),
  });
  expect(bound.status).toBe(201);
}

/** A request and the refusal it must get. */
export type RefusedRequest = [
  method: 'GET' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  options: CallOptions,
  expected: { status: number; code: string; error?: string },
];

/**
 * Sends a request that must be refused and checks the refusal: status, OSB error body, no
 * change to any broker, secret or key row, and one `denied` audit row with the code.
 */
export async function refused(h: BrokerHarness, ...request: RefusedRequest): Promise<Reply> {
  const [method, path, options, expected] = request;
  const before = await h.state();
  const auditBefore = (await h.auditRows()).length;
  const reply = await h.call(method, path, options);
  expect(reply.status).toBe(expected.status);
  expect(typeof reply.body['description']).toBe('string');
  expect((reply.body['description'] as string).length).toBeGreaterThan(0);
  expect(reply.body['error']).toBe(expected.error);
  expect(Object.keys(reply.body).every((key) => key === 'error' || key === 'description')).toBe(
    true,
  );
  expect(await h.state()).toEqual(before);
  const added = (await h.auditRows()).slice(auditBefore);
  expect(added).toHaveLength(1);
  expect(added[0]).toMatchObject({ outcome: 'denied', reason: expected.code });
  return reply;
}
