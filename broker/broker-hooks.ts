// The checks every OSB request passes first: platform credentials, API version, originating identity.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog } from '../src/audit/index.js';
import { HallmarkError } from '../src/errors/index.js';
import { checkApiVersion } from './api-version.js';
import { BASIC_CHALLENGE } from './basic-auth.js';
import { attachCall, BrokerCall, callOf, type BrokerAction } from './broker-call.js';
import { brokerTarget } from './broker-ids.js';
import { osbError, toBrokerError } from './osb-error.js';
import { parseOriginatingIdentity, PLATFORM_ACTOR } from './originating-identity.js';

/** Header names (@see OSB 2.17 "Headers"). */
const VERSION_HEADER = 'x-broker-api-version';
const ORIGINATING_IDENTITY_HEADER = 'x-broker-api-originating-identity';
const REQUEST_IDENTITY_HEADER = 'x-broker-api-request-identity';

// Echoed as sent if it is a plain visible-ASCII token; used as the audit request id only if
// it also fits the request-id alphabet the rest of Hallmark logs.
const ECHOABLE = /^[\x21-\x7e]{1,256}$/;
const AUDITABLE = /^[A-Za-z0-9._:-]{1,64}$/;

/** Route config key naming a route's audit action. */
export interface BrokerRouteConfig {
  readonly osbAction: BrokerAction;
}

/**
 * Installs, on the broker's scope: the per-request checks (onRequest, so an unauthenticated
 * body is never even parsed), and the error and not-found handlers that answer in OSB shape
 * and audit every refusal.
 */
export function installBrokerHooks(
  scope: FastifyInstance,
  audit: AuditLog,
  checkAuthorization: (header: string | undefined) => void,
): void {
  scope.addHook('onRequest', async (request, reply) => {
    const requestIdentity = request.headers[REQUEST_IDENTITY_HEADER];
    const echoed =
      typeof requestIdentity === 'string' && ECHOABLE.test(requestIdentity)
        ? requestIdentity
        : undefined;
    // @see OSB 2.17 "Request Identity": the broker SHOULD include this header in the response.
    if (echoed !== undefined) void reply.header('X-Broker-API-Request-Identity', echoed);
    const action = (request.routeOptions.config as Partial<BrokerRouteConfig> | undefined)
      ?.osbAction;
    if (action === undefined) {
      // Unknown /v2 paths are not OSB calls (nothing to audit) but still need credentials.
      checkAuthorization(request.headers.authorization);
      return;
    }
    const params = request.params as { instance_id?: string; binding_id?: string };
    const target =
      action === 'osb.catalog' ? 'catalog' : brokerTarget(params.instance_id, params.binding_id);
    const call = new BrokerCall(
      action,
      target,
      echoed !== undefined && AUDITABLE.test(echoed) ? echoed : request.id,
    );
    attachCall(request, call);
    checkAuthorization(request.headers.authorization);
    call.actor = PLATFORM_ACTOR;
    // The identity is decoded before the version check so that a 412 is audited with the
    // user it concerns; a malformed identity is refused only after the version (400).
    let identityError: unknown;
    try {
      call.identity = parseOriginatingIdentity(request.headers[ORIGINATING_IDENTITY_HEADER]);
      if (call.identity !== undefined) call.actor = call.identity.actor;
    } catch (err) {
      identityError = err;
    }
    call.apiVersion = checkApiVersion(request.headers[VERSION_HEADER]);
    if (identityError !== undefined) throw identityError;
  });

  scope.setErrorHandler(async (raw: unknown, request: FastifyRequest, reply: FastifyReply) => {
    let err = toBrokerError(raw);
    let { status } = osbError(err);
    const log =
      status >= 500 ? request.log.error.bind(request.log) : request.log.info.bind(request.log);
    log(
      {
        code: err.code,
        detail: err.detail,
        cause: status >= 500 ? (raw as Error)?.stack : undefined,
      },
      'broker request refused',
    );
    const call = callOf(request);
    if (call !== undefined) {
      try {
        await call.failed(audit, status, err.code);
      } catch (auditErr) {
        request.log.error(
          { code: 'ERR_AUDIT_UNAVAILABLE', detail: (auditErr as Error).message },
          'audit write failed',
        );
        err = new HallmarkError('ERR_AUDIT_UNAVAILABLE');
        status = osbError(err).status;
      }
    }
    if (err.code === 'ERR_BROKER_UNAUTHORIZED')
      void reply.header('WWW-Authenticate', BASIC_CHALLENGE);
    return reply.code(status).type('application/json').send(osbError(err).body);
  });

  scope.setNotFoundHandler(async (_request, reply) =>
    reply
      .code(404)
      .type('application/json')
      .send({ description: 'no such Open Service Broker endpoint' }),
  );
}
