// The Open Service Broker as a fastify plugin, mounted by the server at /v2 when credentials exist.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { AuditLog } from '../src/audit/index.js';
import type { Clock } from '../src/clock/index.js';
import { WriteGate, type Database } from '../src/db/index.js';
import { LATEST_API_VERSION } from './api-version.js';
import { basicAuthChecker, type BrokerCredentials } from './basic-auth.js';
import { requireCall } from './broker-call.js';
import type { BrokerContext } from './broker-context.js';
import type { BrokerGrants } from './broker-grants.js';
import { installBrokerHooks, type BrokerRouteConfig } from './broker-hooks.js';
import type { BrokerApiKeys, BrokerSecrets } from './broker-ports.js';
import { registerBindingRoutes } from './binding-routes.js';
import { catalogJsonFor } from './catalog-versions.js';
import { registerInstanceRoutes } from './instance-routes.js';
import { catalogResponses } from './route-schemas.js';

/** What the broker needs from the composition root. */
export interface BrokerDeps {
  readonly db: Database;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly secrets: BrokerSecrets;
  readonly apiKeys: BrokerApiKeys;
  /** The grant store the secret routes consult (`grants.current()` as `canAccess`'s extra grants). */
  readonly grants: BrokerGrants;
  /** Basic-auth credentials platforms use; the broker is never mounted without them. */
  readonly credentials: BrokerCredentials;
  readonly trustDomain: string;
  /** The URL apps reach Hallmark at (`credentials.url`); read per bind, so it may be set after listen. */
  readonly serverUrl: () => string;
  /** PEM CA certificates that sign the server, current at each bind. */
  readonly bundlePem: () => string;
  /** The secret store's value limit in UTF-8 bytes; defaults to 65,536 (the store's default). */
  readonly maxSecretBytes?: number;
  /**
   * Admits broker changes (each a transaction on one pooled connection). Pass the gate secret
   * writes use, so both together stay well below the pool size; default: the broker's own.
   */
  readonly gate?: WriteGate;
}

/** Default of {@link BrokerDeps.maxSecretBytes}. */
export const DEFAULT_BROKER_SECRET_BYTES = 65_536;

/**
 * The broker plugin, its dependencies as options. Register it with a prefix:
 * `app.register(brokerPlugin, { ...deps, prefix: '/v2' })`. Encapsulated: its hooks, OSB error
 * bodies and JSON parsing apply only below the prefix. Refuses to load if the credentials are
 * empty (never open).
 */
export const brokerPlugin: FastifyPluginAsync<BrokerDeps> = async (scope, deps) => {
  const checkAuthorization = basicAuthChecker(deps.credentials);
  const ctx: BrokerContext = {
    db: deps.db,
    audit: deps.audit,
    clock: deps.clock,
    secrets: deps.secrets,
    apiKeys: deps.apiKeys,
    grants: deps.grants,
    trustDomain: deps.trustDomain,
    serverUrl: deps.serverUrl,
    bundlePem: deps.bundlePem,
    maxSecretBytes: deps.maxSecretBytes ?? DEFAULT_BROKER_SECRET_BYTES,
    gate: deps.gate ?? new WriteGate(),
  };
  installJsonParsing(scope);
  installBrokerHooks(scope, deps.audit, checkAuthorization);
  const catalogConfig: BrokerRouteConfig = { osbAction: 'osb.catalog' };
  // @see OSB 2.17 "Catalog Management": 200 with the catalog, in the fields of the
  // platform's version (a strict 2.13 platform refuses fields added after 2.13).
  scope.get(
    '/catalog',
    { config: catalogConfig, schema: { response: catalogResponses } },
    async (request, reply) => {
      const call = requireCall(request);
      const json = catalogJsonFor(call.apiVersion ?? LATEST_API_VERSION);
      await call.succeeded(deps.audit);
      return reply.code(200).type('application/json; charset=utf-8').send(json);
    },
  );
  registerInstanceRoutes(scope, ctx);
  registerBindingRoutes(scope, ctx);
};

/**
 * JSON bodies as OSB platforms send them: an empty body (DELETE with a JSON content type)
 * is no body, and a body without or with another content type is still read as JSON
 * (@see OSB 2.17 "Content Type": brokers MAY process it; unprocessable → 400). Parsing is
 * fastify's own, with prototype-poisoning keys refused.
 */
function installJsonParsing(scope: FastifyInstance): void {
  const parseJson = scope.getDefaultJsonParser('error', 'error');
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text === '') {
      done(null, undefined);
      return;
    }
    parseJson(request, text, done);
  });
}
