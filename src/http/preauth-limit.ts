// The pre-authentication limit: per-address buckets in front of every route that authenticates.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HallmarkError } from '../errors/index.js';
import { callerKey, type AddressBuckets } from './address-buckets.js';
import type { ThrottleTally } from './throttle-tally.js';

/** What the app needs to bound strangers' cost: the buckets and the tally of refusals. */
export interface PreauthLimit {
  readonly buckets: AddressBuckets;
  readonly tally: ThrottleTally;
}

// Public, unauthenticated reads that write no audit row; everything else under /v1 and /v2
// authenticates its caller (TokenReview, access token, client certificate, API key, broker
// basic auth) and audits refusals, so a stranger pays there.
const UNGUARDED = new Set(['/v1/bundle']);

/** True for the routes the limit applies to (route patterns as fastify names them). */
export function isGuardedRoute(url: string | undefined): boolean {
  if (url === undefined || UNGUARDED.has(url)) return false;
  return url.startsWith('/v1/') || url === '/v2' || url.startsWith('/v2/');
}

/**
 * The caller's address: the TCP peer of the connection. Forwarding headers are never read:
 * mTLS logins need the TLS session end to end, so anything in front of Hallmark is a layer-4
 * proxy that cannot add them. An IPv4 peer on a dual-stack socket counts as its IPv4 address.
 */
export function clientAddress(request: FastifyRequest): string {
  const address = request.raw.socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * The key the caller of `request` is charged and counted under: its address, or the /64 of
 * an IPv6 address (see {@link callerKey}).
 */
export function callerOf(request: FastifyRequest): string {
  return callerKey(clientAddress(request));
}

/**
 * Takes a token for `request`'s address before the route does any work. When the address has
 * none, the refusal is counted in the tally (this request writes no row of its own), the
 * `Retry-After` header is set, and the error to answer with is returned.
 */
export function admitPreauth(
  limit: PreauthLimit,
  request: FastifyRequest,
  reply: FastifyReply,
): HallmarkError | undefined {
  const address = callerOf(request);
  const result = limit.buckets.take(address);
  if (result.ok) {
    request.preauth = 'taken';
    return undefined;
  }
  limit.tally.count(address);
  request.preauth = 'throttled';
  request.audited = true;
  void reply.header('retry-after', String(result.retryAfterSeconds));
  return new HallmarkError('ERR_REQUEST_RATE_LIMITED', {
    detail: `pre-authentication limit of ${address}`,
  });
}

/**
 * A refusal of a caller not yet authenticated, as the audit sees it. One for being over a
 * limit (the TokenReview cap) is counted in the tally rather than audited on its own row;
 * any other gets its own row while the interval's budget of them lasts, and is counted
 * beyond it, so strangers at many addresses cannot grow the audit table without bound.
 * Authenticated callers' decisions always get their own row.
 * @returns true when counted, so the caller writes no row.
 */
export function tallyAnonymousRefusal(
  limit: PreauthLimit,
  request: FastifyRequest,
  code: string,
): boolean {
  if ((request.auditContext?.actor ?? 'anonymous') !== 'anonymous') return false;
  if (code === 'ERR_REQUEST_RATE_LIMITED') {
    limit.tally.count(callerOf(request));
    request.preauth = 'throttled';
    return true;
  }
  if (limit.tally.admitRow()) return false;
  limit.tally.count(callerOf(request), 1, code);
  return true;
}

/**
 * Installs the limit: an `onRequest` hook (the first thing a request meets after routing, so
 * a refused one costs no body parsing, no Kubernetes call and no audit row) and an
 * `onResponse` hook that gives the token back when the request succeeded, so the bucket
 * measures failures and requests in flight, not a healthy client's traffic. Aggregated rows
 * are flushed when the app closes.
 */
export function installPreauthLimit(app: FastifyInstance, limit: PreauthLimit): void {
  // Callback hooks, not async ones: every request passes them, and a promise per hook per
  // request is measurable at thousands of requests a second.
  app.addHook('onRequest', (request, reply, done) => {
    if (!isGuardedRoute(request.routeOptions.url)) return done();
    // Passed on as an error, so the route's own error handler answers in its shape (OSB under /v2).
    const refusal = admitPreauth(limit, request, reply);
    done(refusal);
  });
  app.addHook('onResponse', (request, reply, done) => {
    if (request.preauth === 'taken' && reply.statusCode < 400) {
      limit.buckets.refund(callerOf(request));
    }
    done();
  });
  app.addHook('onClose', async () => limit.tally.stop());
}
