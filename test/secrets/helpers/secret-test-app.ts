// A Hallmark HTTPS app with only the secret routes, for route, client and exec tests.
import type { AuditLog } from '../../../src/audit/index.js';
import type { CallerIdentity, TokenVerifier } from '../../../src/authn/index.js';
import { systemClock } from '../../../src/clock/index.js';
import { HallmarkError } from '../../../src/errors/index.js';
import {
  buildApp,
  createMetricsRegistry,
  secretRoutes,
  type HallmarkApp,
  type SecretAccess,
} from '../../../src/http/index.js';
import { canAccess, compilePolicy } from '../../../src/policy/index.js';
import type { SecretStore } from '../../../src/secrets/index.js';
import type { TestTls } from './test-tls.js';

export const TRUST_DOMAIN = 'hallmark.local';
export const API = `spiffe://${TRUST_DOMAIN}/ns/payments/sa/api`;
export const WORKER = `spiffe://${TRUST_DOMAIN}/ns/payments/sa/worker`;

/** The policy the secret tests run under: api reads payments/*, writes one path; worker reads one. */
export const TEST_POLICY = `
grants:
  - to: ${API}
    read: [payments/*]
    write: [payments/api/session-key]
  - to: ${WORKER}
    read: [payments/worker/token]
`;

function identity(id: string, admin = false): CallerIdentity {
  return {
    id,
    kind: admin ? 'apikey' : 'workload',
    admin,
    podUid: undefined,
    tokenId: `jti-${id}`,
    expiresAt: Number.MAX_SAFE_INTEGER,
  };
}

/** Bearer strings the test authenticator accepts, and whom each one proves. */
export const TEST_TOKENS: Readonly<Record<string, CallerIdentity>> = {
  'api-token': identity(API),
  'worker-token': identity(WORKER),
  'admin-token': identity('key:admin', true),
};

/**
 * An in-memory {@link TokenVerifier}: a fixed table of bearer strings (the real one, verifying
 * signed access tokens, belongs to the authentication module and its own tests).
 */
export function tableVerifier(
  table: Readonly<Record<string, CallerIdentity>> = TEST_TOKENS,
): TokenVerifier {
  return {
    verify: async (token) => {
      const found = Object.hasOwn(table, token) ? table[token] : undefined;
      if (found === undefined) throw new HallmarkError('ERR_AUTHN_TOKEN_INVALID');
      return found;
    },
  };
}

/** Test routes installed on the app beside the secret routes (root level, hooks included). */
export type TestRoutes = (app: HallmarkApp) => void;

/** {@link SecretAccess} over the real policy evaluator and {@link TEST_POLICY}. */
export function policyAccess(document = TEST_POLICY): SecretAccess {
  const policy = compilePolicy(document, { trustDomain: TRUST_DOMAIN, maxTtlSeconds: 86_400 });
  return (caller, action, path) => canAccess(policy, caller.id, action, path);
}

/** Builds the app (not listening) with the secret routes and any extra test routes. */
export async function buildSecretApp(options: {
  tls: TestTls;
  store: SecretStore;
  audit: AuditLog;
  maxValueBytes?: number;
  access?: SecretAccess;
  extraRoutes?: TestRoutes[];
}): Promise<HallmarkApp> {
  const material = {
    key: options.tls.serverKeyPem,
    cert: options.tls.serverCertPem,
    ca: [options.tls.caPem],
  };
  const app = await buildApp({
    audit: options.audit,
    tls: { current: () => material, onChange: () => () => undefined },
    readiness: async () => ({ ready: true }),
    metrics: createMetricsRegistry(),
    logger: false,
  });
  await app.register(secretRoutes, {
    store: options.store,
    audit: options.audit,
    tokens: tableVerifier(),
    access: options.access ?? policyAccess(),
    clock: systemClock,
    maxValueBytes: options.maxValueBytes ?? 65_536,
  });
  for (const install of options.extraRoutes ?? []) install(app);
  return app;
}
