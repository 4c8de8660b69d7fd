// The registry of audit actions: every `action` a Hallmark process can write to the chain.
import { METHODS } from 'node:http';

/**
 * Every named action, grouped by the code that writes it. Appends are typed with
 * {@link AuditAction}, so an action missing here does not compile; the OCSF mapping and its
 * test enumerate this list.
 */
export const NAMED_AUDIT_ACTIONS = [
  // requests refused by the pre-authentication limit, summed per address (src/http/throttle-tally.ts)
  'http.preauth.throttled',
  // access tokens (src/http/routes/authn-routes.ts)
  'authn.login',
  'authn.apikey',
  // API-key identities created and revoked (src/authn/authentication.ts, admin-bootstrap.ts)
  'authn.api_key.created',
  'authn.api_key.revoked',
  // the admin API key replaced by a new one (src/http/routes/apikey-routes.ts)
  'authn.api_key.rotated',
  // SVIDs (svid-routes.ts, jwt-svid-routes.ts)
  'svid.x509.issued',
  'svid.x509.denied',
  'svid.jwt.issued',
  'svid.jwt.denied',
  // secrets (secret-routes.ts, secret-route-audit.ts)
  'secret.read',
  'secret.write',
  'secret.denied',
  // policy (policy-routes.ts)
  'policy.load',
  'policy.read',
  // the audit log itself: admin reads (audit-routes.ts) and the sinks' own alarms (src/sink)
  'audit.read',
  'audit.sink.lag',
  'audit.sink.gap',
  // retention (src/checkpoint/audit-archive.ts): a prefix archived and deleted, or refused
  'audit.archived',
  'audit.archive.denied',
  // compliance reports (compliance-routes.ts): the row carries the report's digest
  'compliance.report',
  // the CA (ca-routes.ts, src/ca); `ca.distrust` is the operator removing a CA from trust
  'ca.rotate',
  'ca.created',
  'ca.prepared',
  'ca.activated',
  'ca.distrust',
  'ca.read',
  // an expired CA's private key destroyed in its PKCS#11 token (src/ca/ca-store.ts)
  'ca.key_destroyed',
  // rotating keyrings (src/authn/signing-keyring.ts, src/jwtsvid/jwt-authority-keyring.ts)
  'token_key.prepared',
  'token_key.activated',
  'token_key.dropped',
  'token_key.distrusted',
  'jwt_authority.created',
  'jwt_authority.prepared',
  'jwt_authority.activated',
  'jwt_authority.dropped',
  'jwt_authority.distrusted',
  // the audit checkpoint keyring (src/checkpoint/checkpoint-keyring.ts); keys are never dropped
  'audit_checkpoint_key.prepared',
  'audit_checkpoint_key.activated',
  // SPIFFE federation (src/federation/federation-poller.ts): foreign bundles kept per trust domain
  'federation.bundle.bootstrapped',
  'federation.bundle.updated',
  'federation.bundle.refused',
  'federation.bundle.removed',
  // the Open Service Broker (broker/), one per endpoint
  'osb.catalog',
  'osb.provision',
  'osb.update',
  'osb.deprovision',
  'osb.instance.fetch',
  'osb.instance.last_operation',
  'osb.bind',
  'osb.unbind',
  'osb.binding.fetch',
  'osb.binding.last_operation',
] as const;

/** An action named in {@link NAMED_AUDIT_ACTIONS}. */
export type NamedAuditAction = (typeof NAMED_AUDIT_ACTIONS)[number];

/**
 * The action of a request refused before any route described itself (unknown route, bad URL,
 * bad body): `http.` and the lowercased method. Node's parser accepts only `http.METHODS`.
 */
export type HttpAuditAction = `http.${string}`;

/** Any action the chain can hold. */
export type AuditAction = NamedAuditAction | HttpAuditAction;

/** The HTTP fallback actions, one per method Node's HTTP parser accepts. */
export const HTTP_AUDIT_ACTIONS: readonly HttpAuditAction[] = METHODS.map(
  (method) => `http.${method.toLowerCase()}` as const,
);

/** Every action a Hallmark process can write: the named ones, then the HTTP fallbacks. */
export const AUDIT_ACTIONS: readonly AuditAction[] = [
  ...NAMED_AUDIT_ACTIONS,
  ...HTTP_AUDIT_ACTIONS,
];

/** The fallback action of a request method (Node has already refused any other method). */
export function httpAuditAction(method: string): HttpAuditAction {
  return `http.${method.toLowerCase()}`;
}
