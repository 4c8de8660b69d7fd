// The corpus runner: one refused request, checked for status, code, its audit row and no state
// change; and the stack a table of such cases runs against.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors/index.js';
import {
  startSecurityStack,
  type RawRequest,
  type RawResponse,
  type SecurityStack,
  type SecurityStackOptions,
} from './security-stack.js';
import { auditHead, auditRowsAfter, existingStateTables, snapshotState } from './state-snapshot.js';

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
function table(cases: readonly RefusalCase[]): [string, RefusalCase][] {
  return cases.map((c) => [c.name, c]);
}

/**
 * Sends the case's request with a fresh `x-request-id` and checks: the status and error code;
 * an error body with nothing but `code`, `message` (and `details`), or the OSB error shape for
 * broker cases; exactly one new audit row, carrying this request's id, outcome `denied`
 * (`error` for 5xx) and the code as reason; and every state table, the bundle sequence and the
 * policy version exactly as before.
 */
async function expectRefusal(
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

/** A corpus's running stack, and the state tables none of its refusals may change. */
export interface Corpus {
  /** The stack; read it in tests and hooks (it starts in the corpus's own `beforeAll`). */
  readonly fx: SecurityStack;
  readonly tables: readonly string[];
  /**
   * One test per case, `title` with the case's name for `%s`: each is sent and checked by
   * {@link expectRefusal}. `timeout` bounds a case (a refusal that hangs is a failure).
   */
  refuses(cases: readonly RefusalCase[], options?: { title?: string; timeout?: number }): void;
}

/**
 * Declares, inside a `describe`, the stack a corpus runs against: started once before its
 * tests (a later `beforeAll` of the same block can add setup through `corpus.fx`), its state
 * tables listed, and closed after them.
 */
export function refusalCorpus(options: SecurityStackOptions = {}): Corpus {
  let fx: SecurityStack | undefined;
  let tables: readonly string[] = [];
  beforeAll(async () => {
    fx = await startSecurityStack(options);
    tables = await existingStateTables(fx.stack);
  });
  afterAll(() => fx?.close());
  const started = (): SecurityStack => {
    if (fx === undefined) throw new Error('the corpus stack is used before beforeAll ran');
    return fx;
  };
  return {
    get fx() {
      return started();
    },
    get tables() {
      return tables;
    },
    refuses(cases, { title = 'refuses %s', timeout } = {}) {
      it.each(table(cases))(
        title,
        timeout === undefined ? {} : { timeout },
        async (_name, refusal) => {
          await expectRefusal(started(), tables, refusal);
        },
      );
    },
  };
}
