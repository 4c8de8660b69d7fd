// Secret writes, secret reads and SVID requests, each under its own request id so its audit row can be found.
import { randomBytes } from 'node:crypto';
import type { HallmarkClient } from './hallmark-client.js';
import { transportCode } from './hallmark-client.js';
import { leafSerial, type WorkloadKey } from './workload.js';

/** One answered (or cut off: status 0) call of the load. */
export interface LabelledOutcome {
  kind: 'write' | 'read' | 'svid';
  requestId: string;
  startedAt: number;
  endedAt: number;
  status: number;
  code?: string;
  path?: string;
  value?: string;
  version?: number;
  serial?: string;
  /** Set when a 200 read answered something other than what the path holds. */
  wrong?: string;
}

/** What the load calls with. */
export interface LabelledLoadTarget {
  client: HallmarkClient;
  adminToken: string;
  /** Paths written round-robin; `readPath` is read, holding `readValue`. */
  writePaths: readonly string[];
  readPath: string;
  readValue: string;
  /** Without a projected token the load makes no SVID requests. */
  projectedToken?: string;
  key?: WorkloadKey;
  /** Prefix of every request id, so two runs never share one. */
  label: string;
}

/** One call of the load: the kind follows `call` (write, read, SVID in turn). */
export async function labelledCall(
  target: LabelledLoadTarget,
  worker: number,
  call: number,
): Promise<LabelledOutcome> {
  const kinds: LabelledOutcome['kind'][] =
    target.projectedToken === undefined ? ['write', 'read'] : ['write', 'read', 'svid'];
  const kind = kinds[call % kinds.length] as LabelledOutcome['kind'];
  const requestId = `${target.label}-${call}`;
  const headers = { 'x-request-id': requestId };
  const startedAt = performance.now();
  const outcome = (rest: Partial<LabelledOutcome>): LabelledOutcome => ({
    kind,
    requestId,
    startedAt,
    endedAt: performance.now(),
    status: 0,
    ...rest,
  });
  try {
    if (kind === 'svid') {
      const reply = await target.client.call('POST', '/v1/svid/x509', {
        body: { csr: target.key?.csr },
        token: target.projectedToken,
        headers,
      });
      return outcome({
        status: reply.status,
        code: reply.body.error?.code,
        serial: reply.status === 200 ? leafSerial(reply) : undefined,
      });
    }
    if (kind === 'read') {
      const reply = await target.client.call('GET', `/v1/secrets/${target.readPath}`, {
        token: target.adminToken,
        headers,
      });
      const wrong =
        reply.status === 200 && reply.body.value !== target.readValue
          ? JSON.stringify(reply.body)
          : undefined;
      return outcome({ status: reply.status, code: reply.body.error?.code, wrong });
    }
    const secretPath = target.writePaths[call % target.writePaths.length] as string;
    const value = `v-${worker}-${call}-${randomBytes(6).toString('hex')}`;
    const reply = await target.client.call('PUT', `/v1/secrets/${secretPath}`, {
      body: { value },
      token: target.adminToken,
      headers,
    });
    return outcome({
      status: reply.status,
      code: reply.body.error?.code,
      path: secretPath,
      value,
      version: reply.body.version as number | undefined,
    });
  } catch (err) {
    return outcome({ status: 0, code: transportCode(err) });
  }
}
