// Fastify assembly: TLS listener options, logging, request ids, errors, metrics, health, features.
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:https';
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import Fastify, {
  type FastifyInstance,
  type FastifyPluginOptions,
  type FastifyReply,
} from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { httpAuditAction, type AuditLog } from '../audit/index.js';
import { HallmarkError } from '../errors/index.js';
import { installErrorHandling, sendError, toHallmarkError } from './error-handler.js';
import { healthRoutes, type MetricsSource, type ReadinessCheck } from './health-routes.js';
import { RequestLogController } from './logger.js';
import { installRequestMetrics } from './metrics.js';
import {
  admitPreauth,
  callerOf,
  installPreauthLimit,
  tallyAnonymousRefusal,
  type PreauthLimit,
} from './preauth-limit.js';
import { requestContext } from './request-context.js';
import { tlsOptions, type ServingTlsSource } from './serving-tls.js';

/** The HTTPS app {@link buildApp} returns; route groups are registered on it as plugins. */
export type HallmarkApp = FastifyInstance<Server>;

/**
 * A route group: an encapsulated fastify plugin, registered with `app.register(plugin,
 * options)`, that takes its dependencies as its options. Its handlers' `request.body`,
 * `query` and `params` are typed from the route's JSON schemas (json-schema-to-ts), so the
 * schema that validates a request is the one place its shape is written.
 */
export type RoutePlugin<Options extends FastifyPluginOptions> = FastifyPluginAsyncJsonSchemaToTs<{
  Options: Options;
  Server: Server;
}>;

/** What the app needs from the composition root. */
export interface AppOptions {
  audit: AuditLog;
  tls: ServingTlsSource;
  readiness: ReadinessCheck;
  metrics: Registry;
  /** What `/metrics` serves; `metrics` itself unless set (a cluster worker's gathers all). */
  metricsEndpoint?: MetricsSource;
  /** The process logger (pino); `false` disables logging (unit tests). */
  logger: Logger | false;
  /** Largest accepted request body in bytes. */
  bodyLimit?: number;
  /** TLS 1.2 cipher suites (`HALLMARK_TLS_CIPHERS`); Hallmark's AEAD, forward-secret list if absent. */
  tlsCiphers?: readonly string[];
  /** The pre-authentication limit (per-address buckets and the tally of refusals); none if absent. */
  preauth?: PreauthLimit;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Headers every response carries: its request id (docs/http-api.md) and no caching, unless
 * the route chose a cache policy itself (the public OIDC discovery documents).
 */
function labelResponse(reply: FastifyReply, requestId: string): void {
  void reply.header('x-request-id', requestId);
  if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
}

/**
 * Builds the HTTPS fastify app (not yet listening) with what every route shares: the request
 * context, request ids, JSON-only bodies, the pre-authentication limit, error handling,
 * metrics and the health routes. The caller registers the route groups (each a
 * {@link RoutePlugin}) on it before `listen`.
 */
export async function buildApp(options: AppOptions): Promise<HallmarkApp> {
  const app = Fastify({
    https: tlsOptions(options.tls.current(), options.tlsCiphers),
    ...(options.logger === false ? { logger: false } : { loggerInstance: options.logger }),
    logController: new RequestLogController(),
    bodyLimit: options.bodyLimit ?? 1_048_576,
    // Accept a caller's request id only if it is short and plain, so it cannot inject log lines.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    return503OnClosing: true,
    // Requests the router rejects before any route runs (undecodable URL, bad content type
    // header) get our error body and an audit row like every other refusal.
    frameworkErrors: (error, request, reply) => {
      // No route runs, so neither does the onSend hook below: label the response here.
      labelResponse(reply, request.id);
      // Unroutable requests write a row each: they pay into the sender's bucket like the rest.
      const refusal = options.preauth && admitPreauth(options.preauth, request, reply);
      if (refusal) return void sendError(reply, refusal);
      const err = toHallmarkError(error);
      if (options.preauth !== undefined && !options.preauth.tally.admitRow()) {
        // Over this interval's budget of strangers' rows: counted, written with the tally.
        options.preauth.tally.count(callerOf(request), 1, err.code);
        return void sendError(reply, err);
      }
      const target = request.url.slice(0, 256).replace(/[^\x21-\x7e]/g, '?');
      options.audit
        .append({
          actor: 'anonymous',
          action: httpAuditAction(request.method),
          target,
          outcome: 'denied',
          reason: err.code,
          requestId: request.id,
        })
        .then(
          () => sendError(reply, err),
          () => sendError(reply, new HallmarkError('ERR_AUDIT_UNAVAILABLE')),
        );
    },
  }) as unknown as HallmarkApp;

  // Every route takes JSON (the policy routes add their YAML types in their own scope). Fastify's
  // default text/plain parser would hand a JSON route a string, refused as 400 by the schema;
  // a wrong content type is 415 ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE (docs/errors.md).
  app.removeContentTypeParser('text/plain');
  await app.register(requestContext);
  app.addHook('onSend', (request, reply, payload, done) => {
    labelResponse(reply, request.id);
    done(null, payload);
  });
  const { preauth } = options;
  if (preauth !== undefined) installPreauthLimit(app, preauth);
  installErrorHandling(
    app,
    options.audit,
    preauth === undefined
      ? undefined
      : (request, code) => tallyAnonymousRefusal(preauth, request, code),
  );
  installRequestMetrics(app, options.metrics);
  await app.register(healthRoutes, {
    readiness: options.readiness,
    metrics: options.metricsEndpoint ?? options.metrics,
  });
  return app;
}
