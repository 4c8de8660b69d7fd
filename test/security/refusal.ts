// The corpus runner: one refused request, checked for status, code, its audit row and no state change.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { ErrorCode } from '../../src/errors/index.js';
import type { RawRequest, RawResponse, SecurityStack } from './security-stack.js';
import { auditHead, auditRowsAfter, snapshotState } from './state-snapshot.js';

/** One row of a corpus table. */
export interface RefusalCase {
  readonly name: string;
  /** Builds the request; any setup it needs happens here, before the "before" snapshot. */
  readonly request: (fx: SecurityStack) => RawRequest | Promise<RawRequest>;
  readonly status: number;
  readonly code: ErrorCode;
  /**
   * `osb`: the broker answers in the OSB error shape (`description`, and `error` only for the
   * spec's named conditions), so the code is checked in the audit row alone.
   */
  readonly shape?: 'hallmark' | 'osb';
}

/** The `[name, case]` pairs `it.each` wants, so the table reads as a list of cases. */
export function table(cases: readonly RefusalCase[]): [string, RefusalCase][] {
  return cases.map((c) => [c.name, c]);
}

/**
 * Sends the case's request with a fresh `x-request-id` and checks: the status and error code;
 * an error body with nothing but `code`, `message` (and `details`), or the OSB error shape for
 * broker cases; exactly one new audit row, carrying this request's id, outcome `denied`
 * (`error` for 5xx) and the code as reason; and every state table, the bundle sequence and the
 * policy version exactly as before.
 */
export async function expectRefusal(
  fx: SecurityStack,
  tables: readonly string[],
  refusal: RefusalCase,
): Promise<RawResponse> {
  const request = await refusal.request(fx);
  const requestId = `corpus-${randomBytes(6).toString('hex')}`;
  const before = await snapshotState(fx.stack, tables);
  const head = await auditHead(fx.stack);

  const response = await fx.send({
    ...request,
    headers: { ...request.headers, 'x-request-id': requestId },
  });

  expect(response.status, JSON.stringify(response.body)).toBe(refusal.status);
  if (refusal.shape === 'osb') {
    expect(typeof response.body['description'], JSON.stringify(response.body)).toBe('string');
    expect(Object.keys(response.body).filter((k) => k !== 'error')).toEqual(['description']);
  } else {
    expect(response.body.error?.code).toBe(refusal.code);
    expect(Object.keys(response.body)).toEqual(['error']);
    expect(Object.keys(response.body.error ?? {}).filter((k) => k !== 'details')).toEqual([
      'code',
      'message',
    ]);
  }
  expect(response.headers['x-request-id']).toBe(requestId);

  const rows = await auditRowsAfter(fx.stack, head);
  expect(
    rows.map((r) => ({ request_id: r.request_id, outcome: r.outcome, reason: r.reason })),
  ).toEqual([
    {
      request_id: requestId,
      outcome: refusal.status >= 500 ? 'error' : 'denied',
      reason: refusal.code,
    },
  ]);
  expect(await snapshotState(fx.stack, tables)).toEqual(before);
  return response;
}
