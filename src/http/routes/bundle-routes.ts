// GET /v1/bundle: the SPIFFE trust bundle as JWKS, or as PEM for `Accept: application/x-pem-file`.
import {
  bundleDocument,
  type BundleDocument,
  type BundleJwk,
  type CertificateAuthority,
  type TrustBundle,
} from '../../ca/index.js';
import type { Clock } from '../../clock/index.js';
import type { HallmarkApp, RouteInstaller } from '../app.js';

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

/** Public, unauthenticated: the bundle is what every relying party needs to verify SVIDs. */
export function bundleRoutes(deps: {
  ca: CertificateAuthority;
  clock: Clock;
  /** JWT-SVID signing keys to publish as `use: jwt-svid` entries. */
  jwtKeys: () => readonly BundleJwk[];
}): RouteInstaller {
  // Building the JWKS parses every CA certificate; the bundle changes rarely, so the document
  // is rebuilt only when its inputs do.
  let cached: { key: string; document: BundleDocument } | undefined;
  const currentDocument = (bundle: TrustBundle): BundleDocument => {
    const jwtKeys = deps.jwtKeys();
    const key = `${bundle.sequence}|${bundle.certificatesPem.join('')}|${jwtKeys.map((k) => k.kid).join(',')}`;
    if (cached?.key !== key) cached = { key, document: bundleDocument(bundle, jwtKeys) };
    return cached.document;
  };
  return (app: HallmarkApp) => {
    app.get(
      '/v1/bundle',
      { schema: { response: { 200: bundleSchema } } },
      async (request, reply) => {
        const bundle = deps.ca.bundle();
        void reply.header('x-spiffe-sequence', String(bundle.sequence));
        if (/\bapplication\/x-pem-file\b/i.test(request.headers.accept ?? '')) {
          return reply
            .type('application/x-pem-file')
            .serializer((body: string) => body)
            .send(bundle.certificatesPem.join(''));
        }
        return currentDocument(bundle);
      },
    );
  };
}
