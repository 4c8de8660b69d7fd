// GET /v1/bundle: the SPIFFE trust bundle as JWKS, or as PEM for `Accept: application/x-pem-file`.
import type { FastifyReply } from 'fastify';
import {
  bundleDocument,
  type BundleDocument,
  type BundleJwk,
  type CertificateAuthority,
  type TrustBundle,
} from '../../ca/index.js';
import type { Clock } from '../../clock/index.js';
import type { RoutePlugin } from '../app.js';

const jwkSchema = {
  type: 'object',
  properties: {
    kty: { type: 'string' },
    use: { type: 'string' },
    crv: { type: 'string' },
    x: { type: 'string' },
    y: { type: 'string' },
    n: { type: 'string' },
    e: { type: 'string' },
    kid: { type: 'string' },
    alg: { type: 'string' },
    x5c: { type: 'array', items: { type: 'string' } },
  },
  required: ['kty', 'use'],
  additionalProperties: false,
} as const;

const bundleSchema = {
  type: 'object',
  properties: {
    keys: { type: 'array', items: jwkSchema },
    spiffe_sequence: { type: 'integer' },
    spiffe_refresh_hint: { type: 'integer' },
  },
  required: ['keys', 'spiffe_sequence', 'spiffe_refresh_hint'],
  additionalProperties: false,
} as const;

/** What the bundle is made of. */
export interface BundleSourceDeps {
  ca: Pick<CertificateAuthority, 'bundle'>;
  /** JWT-SVID signing keys to publish as `use: jwt-svid` entries. */
  jwtKeys: () => readonly BundleJwk[];
}

/**
 * The SPIFFE bundle document in force, shared by `GET /v1/bundle` and the bundle endpoint
 * listener. Building the JWKS parses every CA certificate; the bundle changes rarely, so the
 * document is rebuilt only when its inputs do.
 */
export function bundleDocumentSource(deps: BundleSourceDeps): () => BundleDocument {
  let cached: { key: string; document: BundleDocument } | undefined;
  return () => {
    const bundle: TrustBundle = deps.ca.bundle();
    const jwtKeys = deps.jwtKeys();
    const key = `${bundle.sequence}|${bundle.certificatesPem.join('')}|${jwtKeys.map((k) => k.kid).join(',')}`;
    if (cached?.key !== key) cached = { key, document: bundleDocument(bundle, jwtKeys) };
    return cached.document;
  };
}

/** Dependencies of the bundle route (its plugin options). */
export interface BundleRouteOptions extends BundleSourceDeps {
  readonly clock: Clock;
}

/** Public, unauthenticated: the bundle is what every relying party needs to verify SVIDs. */
export const bundleRoutes: RoutePlugin<BundleRouteOptions> = async (app, deps) => {
  const currentDocument = bundleDocumentSource(deps);
  app.get('/v1/bundle', { schema: { response: { 200: bundleSchema } } }, async (request, reply) => {
    if (/\bapplication\/x-pem-file\b/i.test(request.headers.accept ?? '')) {
      const bundle = deps.ca.bundle();
      void reply.header('x-spiffe-sequence', String(bundle.sequence));
      // PEM text with its own serializer: not the JSON document the response schema types.
      return (reply as FastifyReply)
        .type('application/x-pem-file')
        .serializer((body: string) => body)
        .send(bundle.certificatesPem.join(''));
    }
    const document = currentDocument();
    void reply.header('x-spiffe-sequence', String(document.spiffe_sequence));
    return document;
  });
};
