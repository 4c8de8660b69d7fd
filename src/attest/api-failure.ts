// Kubernetes call failures as attestation errors: Kubernetes refusing Hallmark's own
// credentials is ERR_ATTEST_FORBIDDEN; anything else that prevents an answer fails closed
// as ERR_ATTEST_UNAVAILABLE.
import { ApiException } from '@kubernetes/client-node';
import { HallmarkError } from '../errors/index.js';
import { DeadlineExceeded } from './call-deadline.js';

function statusText(body: unknown): string {
  // A failed call's body is usually a meta/v1 Status: keep its reason and message.
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return '';
    }
  }
  if (value === null || typeof value !== 'object') return '';
  const status = value as { reason?: unknown; message?: unknown };
  const parts = [status.reason, status.message].filter((p) => typeof p === 'string' && p !== '');
  return parts.length > 0 ? ` (${parts.join(': ')})` : '';
}

/**
 * Maps an error thrown by a Kubernetes call to a HallmarkError. `operation` names the call
 * for the detail; every occurrence of `secret` (the reviewed token) is scrubbed from it.
 */
export function toAttestError(err: unknown, operation: string, secret?: string): HallmarkError {
  if (err instanceof HallmarkError) return err;
  let code: 'ERR_ATTEST_FORBIDDEN' | 'ERR_ATTEST_UNAVAILABLE' = 'ERR_ATTEST_UNAVAILABLE';
  let detail: string;
  if (err instanceof ApiException) {
    const status = (err as ApiException<unknown>).code;
    if (status === 401 || status === 403) code = 'ERR_ATTEST_FORBIDDEN';
    detail = `${operation}: Kubernetes answered ${status}${statusText((err as ApiException<unknown>).body)}`;
  } else if (err instanceof DeadlineExceeded) {
    detail = `${operation}: ${err.message}`;
  } else if (err instanceof Error) {
    const sys = (err as { code?: unknown }).code;
    detail = `${operation}: ${typeof sys === 'string' ? `${sys} ` : ''}${err.name}: ${err.message}`;
  } else {
    detail = `${operation}: ${String(err)}`;
  }
  if (secret !== undefined && secret !== '') detail = detail.split(secret).join('<token>');
  // An ApiException's message embeds the response body; keep it out of `cause` so nothing
  // the API server echoed (possibly the token) reaches a log through the error chain.
  const cause = err instanceof ApiException ? undefined : err;
  return new HallmarkError(code, { detail: detail.slice(0, 500), cause });
}
