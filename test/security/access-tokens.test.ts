// Corpus: access-token abuse on the secret and admin routes (forged, expired, tampered, wrong
// audience, revoked) and non-admin tokens on admin routes.
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  ATTACKER_EC,
  attackerRsaKey,
  hmacWithPublicKey,
  partsOf,
  resigned,
  tampered,
  unsigned,
} from './forged-credentials.js';
import { refusalCorpus, type RefusalCase } from './refusal.js';
import { SECURITY_POLICY, type RawRequest, type SecurityStack } from './security-stack.js';

const SECRET = '/v1/secrets/payments/db-password';
const now = (): number => Math.floor(Date.now() / 1000);

/** A GET of the granted secret with `authorization` (the app may read it with a good token). */
const readWith = (authorization: string | undefined): RawRequest => ({
  method: 'GET',
  path: SECRET,
  headers: authorization === undefined ? {} : { authorization },
});

/** A secret-read case whose bearer token is built from the fixture. */
const token = (
  name: string,
  forge: (fx: SecurityStack) => string | Promise<string>,
  code: RefusalCase['code'] = 'ERR_AUTHN_TOKEN_INVALID',
): RefusalCase => ({
  name,
  request: async (fx) => readWith(`Bearer ${await forge(fx)}`),
  status: 401,
  code,
});

let revoked = 0;
/** A real app token whose API key was then revoked. */
async function revokedAppToken(fx: SecurityStack): Promise<string> {
  const id = `app-revoked-${++revoked}`;
  const key = await fx.stack.server.authn.createApiKey({ id, role: 'app' });
  const login = await fx.send({
    method: 'POST',
    path: '/v1/authn/apikey',
    json: { id, api_key: key },
  });
  await fx.stack.server.authn.revokeApiKey(id, 'corpus');
  return login.body.token as string;
}

const TOKEN_CASES: RefusalCase[] = [
  {
    name: 'no Authorization header',
    request: () => readWith(undefined),
    status: 401,
    code: 'ERR_AUTHN_TOKEN_MISSING',
  },
  {
    name: 'Basic credentials',
    request: (fx) => readWith(`Basic ${Buffer.from(`admin:${fx.adminKey}`).toString('base64')}`),
    status: 401,
    code: 'ERR_AUTHN_TOKEN_MISSING',
  },
  {
    name: 'a bearer with spaces in it',
    request: () => readWith('Bearer a b c'),
    status: 401,
    code: 'ERR_AUTHN_TOKEN_MISSING',
  },
  token('garbage', () => 'garbage.garbage.garbage'),
  token('the projected ServiceAccount token instead of an access token', (fx) =>
    fx.projectedToken(),
  ),
  token('alg none, empty signature (admin claims)', (fx) => unsigned(fx.adminToken)),
  token('alg none with a made-up signature (admin claims)', (fx) =>
    unsigned(fx.adminToken, 'c2lnbmF0dXJl'),
  ),
  token('HS256 keyed with the server public key (PEM)', (fx) =>
    hmacWithPublicKey(fx, fx.appToken, 'pem'),
  ),
  token('HS256 keyed with the server public key (JWK)', (fx) =>
    hmacWithPublicKey(fx, fx.appToken, 'jwk'),
  ),
  token('RS256 by an attacker key under the server kid', async (fx) => {
    const { header, claims } = partsOf(fx.appToken);
    return new SignJWT(claims)
      .setProtectedHeader({ ...header, alg: 'RS256' })
      .sign(attackerRsaKey().privateKey);
  }),
  token('ES256 by an attacker key under the server kid', (fx) =>
    resigned(fx, fx.appToken, { key: ATTACKER_EC.privateKey }),
  ),
  token('an unknown kid', (fx) => resigned(fx, fx.appToken, { header: { kid: 'no-such-key' } })),
  token('tampered: app role raised to admin', (fx) => tampered(fx.appToken, { role: 'admin' })),
  token('tampered: subject changed to the admin key', (fx) =>
    tampered(fx.appToken, { sub: 'key:admin' }),
  ),
  token('tampered: expiry pushed out', (fx) => tampered(fx.appToken, { exp: now() + 86_400 })),
  token('signature truncated', (fx) => fx.appToken.slice(0, -8)),
  token('expired (signed by the server key)', (fx) =>
    resigned(fx, fx.appToken, {
      claims: { iat: now() - 3600, nbf: now() - 3600, exp: now() - 600 },
    }),
  ),
  token('not yet valid (signed by the server key)', (fx) =>
    resigned(fx, fx.appToken, { claims: { nbf: now() + 600 } }),
  ),
  token('another audience (signed by the server key)', (fx) =>
    resigned(fx, fx.appToken, { claims: { aud: 'vault' } }),
  ),
  token('no audience (signed by the server key)', (fx) =>
    resigned(fx, fx.appToken, { drop: ['aud'] }),
  ),
  token('another issuer (signed by the server key)', (fx) =>
    resigned(fx, fx.appToken, { claims: { iss: 'https://evil.example:8443' } }),
  ),
  token('typ at+jwt (signed by the server key)', (fx) =>
    resigned(fx, fx.appToken, { header: { typ: 'at+jwt' } }),
  ),
  token('admin role on a SPIFFE subject (signed by the server key)', (fx) =>
    resigned(fx, fx.workload.token, { claims: { role: 'admin' } }),
  ),
  token('a token over 4 KiB', (fx) =>
    resigned(fx, fx.appToken, { claims: { padding: 'x'.repeat(5000) } }),
  ),
  token('a JWT-SVID for audience "hallmark" (signed by the JWT authority)', async (fx) => {
    const issued = await fx.send({
      method: 'POST',
      path: '/v1/svid/jwt',
      dispatcher: fx.workload.mtls,
      json: { audience: ['hallmark'] },
    });
    expect(issued.status).toBe(200);
    return issued.body.token as string;
  }),
  token('a token whose API key was revoked', revokedAppToken, 'ERR_AUTHN_TOKEN_REVOKED'),
];

type Caller = 'app' | 'workload';
const ADMIN_ROUTES: [string, (fx: SecurityStack, auth: Record<string, string>) => RawRequest][] = [
  [
    'PUT /v1/policy',
    (_fx, auth) => ({
      method: 'PUT',
      path: '/v1/policy',
      headers: { ...auth, 'content-type': 'application/yaml' },
      raw: `${SECURITY_POLICY}  - to: key:app-reader\n    write: ['*']\n`,
    }),
  ],
  ['GET /v1/policy', (_fx, auth) => ({ method: 'GET', path: '/v1/policy', headers: auth })],
  ['GET /v1/audit', (_fx, auth) => ({ method: 'GET', path: '/v1/audit', headers: auth })],
  [
    'POST /v1/apikeys/admin/rotate',
    (_fx, auth) => ({ method: 'POST', path: '/v1/apikeys/admin/rotate', headers: auth }),
  ],
  ['GET /v1/compliance', (_fx, auth) => ({ method: 'GET', path: '/v1/compliance', headers: auth })],
  [
    'GET /v1/audit/checkpoints',
    (_fx, auth) => ({ method: 'GET', path: '/v1/audit/checkpoints', headers: auth }),
  ],
  ['POST /v1/ca/rotate', (_fx, auth) => ({ method: 'POST', path: '/v1/ca/rotate', headers: auth })],
  [
    'GET /v1/ca/authorities',
    (_fx, auth) => ({ method: 'GET', path: '/v1/ca/authorities', headers: auth }),
  ],
  [
    'POST /v1/ca/distrust',
    (_fx, auth) => ({
      method: 'POST',
      path: '/v1/ca/distrust',
      headers: auth,
      json: { ca_id: 1, rotate: true },
    }),
  ],
];

const ADMIN_CASES: RefusalCase[] = [
  ...ADMIN_ROUTES.flatMap(([route, build]) =>
    (['app', 'workload'] as Caller[]).map((caller): RefusalCase => ({
      name: `${route} with ${caller === 'app' ? 'an API-key (app)' : 'a workload'} token`,
      request: (fx) =>
        build(fx, {
          authorization: `Bearer ${caller === 'app' ? fx.appToken : fx.workload.token}`,
        }),
      status: 403,
      code: 'ERR_AUTHN_NOT_ADMIN',
    })),
  ),
  ...ADMIN_ROUTES.map(([route, build]): RefusalCase => ({
    name: `${route} with no token`,
    request: (fx) => build(fx, {}),
    status: 401,
    code: 'ERR_AUTHN_TOKEN_MISSING',
  })),
  {
    name: 'POST /v1/ca/rotate with an expired admin token',
    request: async (fx) => ({
      method: 'POST',
      path: '/v1/ca/rotate',
      headers: {
        authorization: `Bearer ${await resigned(fx, fx.adminToken, { claims: { iat: now() - 3600, nbf: now() - 3600, exp: now() - 600 } })}`,
      },
    }),
    status: 401,
    code: 'ERR_AUTHN_TOKEN_INVALID',
  },
  {
    name: 'PUT /v1/policy with an alg-none admin token',
    request: (fx) =>
      ADMIN_ROUTES[0]![1](fx, { authorization: `Bearer ${unsigned(fx.adminToken)}` }),
    status: 401,
    code: 'ERR_AUTHN_TOKEN_INVALID',
  },
  {
    name: 'PUT /v1/policy with an app token tampered to admin',
    request: (fx) =>
      ADMIN_ROUTES[0]![1](fx, {
        authorization: `Bearer ${tampered(fx.appToken, { role: 'admin' })}`,
      }),
    status: 401,
    code: 'ERR_AUTHN_TOKEN_INVALID',
  },
  ...[
    ['after=-1', '?after=-1'],
    ['limit=100000', '?limit=100000'],
    ['an unknown parameter', '?after=1&all=true'],
  ].map(([name, query]): RefusalCase => ({
    name: `GET /v1/audit with ${name}`,
    request: (fx) => ({
      method: 'GET',
      path: `/v1/audit${query}`,
      headers: { authorization: `Bearer ${fx.adminToken}` },
    }),
    status: 400,
    code: 'ERR_REQUEST_INVALID',
  })),
];

describe('bad-input corpus: access tokens and admin routes', () => {
  const corpus = refusalCorpus();

  // Controls: the forging helpers alone do not break a token, so each refusal above is caused
  // by the one thing its case changes.
  it.each([
    [
      're-signed by the server key without edits',
      (f: SecurityStack) => resigned(f, f.appToken, {}),
    ],
    ['re-encoded without edits, signature kept', (f: SecurityStack) => tampered(f.appToken, {})],
  ])('control: an app token %s still reads the secret', async (_name, build) => {
    const response = await corpus.fx.send(readWith(`Bearer ${await build(corpus.fx)}`));
    expect(response.status).toBe(200);
  });

  corpus.refuses(TOKEN_CASES, { title: 'refuses a secret read with %s' });

  corpus.refuses(ADMIN_CASES);
});
