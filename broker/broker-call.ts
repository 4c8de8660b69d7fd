// One OSB call as the audit log sees it: action, actor, target, and whether it was recorded.
import type { FastifyRequest } from 'fastify';
import type { AuditEvent, AuditLog, NamedAuditAction } from '../src/audit/index.js';
import type { Queryable } from '../src/db/index.js';
import type { ApiVersion } from './api-version.js';
import type { OriginatingIdentity } from './originating-identity.js';

/** Audit actions, one per OSB endpoint. */
export type BrokerAction = Extract<NamedAuditAction, `osb.${string}`>;

/**
 * The audit state of one request. Each call is audited once with its outcome. A change stages
 * its success row in its own transaction ({@link changed}), so the row exists exactly when the
 * change committed; if the transaction rolls back, the failure row is the call's only row.
 */
export class BrokerCall {
  actor = 'anonymous';
  target: string;
  identity: OriginatingIdentity | undefined;
  /** The platform's `X-Broker-API-Version`, set before any route runs: it shapes the answer. */
  apiVersion: ApiVersion | undefined;
  #failed = false;

  constructor(
    readonly action: BrokerAction,
    target: string,
    readonly requestId: string,
  ) {
    this.target = target;
  }

  /** Appends the success row of a call that changes nothing (a read, the catalog). */
  async succeeded(audit: AuditLog, targetDetail?: string): Promise<void> {
    await audit.append(this.#success(targetDetail));
  }

  /** Stages the success row in the call's transaction `tx`: it commits with the change. */
  async changed(audit: AuditLog, tx: Queryable, targetDetail?: string): Promise<void> {
    await audit.stage(tx, this.#success(targetDetail));
  }

  /** Appends the refusal (4xx, `denied`) or failure (5xx, `error`) row, once. */
  async failed(audit: AuditLog, status: number, code: string): Promise<void> {
    if (this.#failed) return;
    this.#failed = true;
    await audit.append({
      actor: this.actor,
      action: this.action,
      target: this.target,
      outcome: status >= 500 ? 'error' : 'denied',
      reason: code,
      requestId: this.requestId,
    });
  }

  #success(targetDetail: string | undefined): AuditEvent {
    return {
      actor: this.actor,
      action: this.action,
      target: targetDetail === undefined ? this.target : `${this.target} ${targetDetail}`,
      outcome: 'success',
      reason: '',
      requestId: this.requestId,
    };
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
