// GET /.well-known/openid-configuration and its jwks_uri: JWT-SVID keys for OIDC relying parties.
import {
  OIDC_PATHS,
  discoveryDocument,
  oidcKeySet,
  type OidcSigningKey,
} from '../../oidc/index.js';
import type { FromSchema } from 'json-schema-to-ts';
import type { RoutePlugin } from '../app.js';

/** Dependencies of the OIDC routes (their plugin options). */
export interface OidcRouteOptions {
  /** `HALLMARK_OIDC_ISSUER`. */
  readonly issuer: string;
  /** The published JWT authorities with their algorithms (prepared, active, retired). */
  readonly keys: () => readonly OidcSigningKey[];
  /** The configured algorithm, named while no key is loaded. */
  readonly algorithm: string;
  /** `Cache-Control: max-age` of both documents (`oidcCacheMaxAgeSeconds`). */
  readonly maxAgeSeconds: number;
}

const jwkSchema = {
  type: 'object',
  properties: {
    kty: { type: 'string' },
    use: { type: 'string' },
    kid: { type: 'string' },
    alg: { type: 'string' },
    crv: { type: 'string' },
    x: { type: 'string' },
    y: { type: 'string' },
    n: { type: 'string' },
    e: { type: 'string' },
  },
  required: ['kty', 'use', 'kid', 'alg'],
  additionalProperties: false,
} as const;

const keySetSchema = {
  type: 'object',
  properties: { keys: { type: 'array', items: jwkSchema } },
  required: ['keys'],
  additionalProperties: false,
} as const;

const strings = { type: 'array', items: { type: 'string' } } as const;
const discoverySchema = {
  type: 'object',
  properties: {
    issuer: { type: 'string' },
    jwks_uri: { type: 'string' },
    response_types_supported: strings,
    subject_types_supported: strings,
    id_token_signing_alg_values_supported: strings,
  },
  required: [
    'issuer',
    'jwks_uri',
    'response_types_supported',
    'subject_types_supported',
    'id_token_signing_alg_values_supported',
  ],
  additionalProperties: false,
} as const;

/**
 * Public, unauthenticated, and registered only when an issuer is configured (off by default:
 * the routes then answer 404 like any unknown path). Both documents may be cached, but never
 * longer than a new key's publication lead, so rotation reaches relying parties in time.
 */
export const oidcRoutes: RoutePlugin<OidcRouteOptions> = async (app, deps) => {
  const cacheControl = `public, max-age=${deps.maxAgeSeconds}`;
  app.get(
    OIDC_PATHS.discovery,
    { schema: { response: { 200: discoverySchema } } },
    async (_request, reply) => {
      void reply.header('cache-control', cacheControl);
      // The same document: the schema's type has mutable arrays where oidc's are readonly.
      return discoveryDocument(deps.issuer, deps.keys(), deps.algorithm) as FromSchema<
        typeof discoverySchema
      >;
    },
  );
  app.get(
    OIDC_PATHS.jwks,
    { schema: { response: { 200: keySetSchema } } },
    async (_request, reply) => {
      void reply.header('cache-control', cacheControl);
      return oidcKeySet(deps.keys());
    },
  );
};
