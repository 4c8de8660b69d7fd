// One OSB call as the audit log sees it: action, actor, target, and whether it was recorded.
import type { FastifyRequest } from 'fastify';
import type { AuditLog, NamedAuditAction } from '../src/audit/index.js';
import type { ApiVersion } from './api-version.js';
import type { OriginatingIdentity } from './originating-identity.js';

/** Audit actions, one per OSB endpoint. */
export type BrokerAction = Extract<NamedAuditAction, `osb.${string}`>;

/**
 * The audit state of one request. Each call is audited exactly once with its outcome; if a
 * call fails after its success row was written (an irreversible step failed before COMMIT),
 * a second, `error` row follows, so the chain never claims less than happened.
 */
export class BrokerCall {
  actor = 'anonymous';
  target: string;
  identity: OriginatingIdentity | undefined;
  /** The platform's `X-Broker-API-Version`, set before any route runs: it shapes the answer. */
  apiVersion: ApiVersion | undefined;
  #recorded: 'none' | 'success' | 'failure' = 'none';

  constructor(
    readonly action: BrokerAction,
    target: string,
    readonly requestId: string,
  ) {
    this.target = target;
  }

  /** Appends the success row (before COMMIT: no change is committed without its row). */
  async succeeded(audit: AuditLog, targetDetail?: string): Promise<void> {
    await audit.append({
      actor: this.actor,
      action: this.action,
      target: targetDetail === undefined ? this.target : `${this.target} ${targetDetail}`,
      outcome: 'success',
      reason: '',
      requestId: this.requestId,
    });
    this.#recorded = 'success';
  }

  /** Appends the refusal (4xx, `denied`) or failure (5xx, `error`) row, once. */
  async failed(audit: AuditLog, status: number, code: string): Promise<void> {
    if (this.#recorded === 'failure') return;
    this.#recorded = 'failure';
    await audit.append({
      actor: this.actor,
      action: this.action,
      target: this.target,
      outcome: status >= 500 ? 'error' : 'denied',
      reason: code,
      requestId: this.requestId,
    });
  }
}

const calls = new WeakMap<FastifyRequest, BrokerCall>();

/** Associates a call with its request (the broker plugin's onRequest hook). */
export function attachCall(request: FastifyRequest, call: BrokerCall): void {
  calls.set(request, call);
}

/** The call of a request, if the broker's hooks saw it. */
export function callOf(request: FastifyRequest): BrokerCall | undefined {
  return calls.get(request);
}

/** The call of a request inside a broker route (the hook always ran first). */
export function requireCall(request: FastifyRequest): BrokerCall {
  const call = calls.get(request);
  if (call === undefined) throw new Error('broker route reached without the broker hooks');
  return call;
}
