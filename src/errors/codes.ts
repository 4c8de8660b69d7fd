// The error registry: every stable error code Hallmark can return, with its public message.
// Codes are grouped by area prefix; the HTTP status of each lives in src/http/error-status.ts,
// because the core never mentions HTTP. docs/errors.md's error table must list every code (tested).

/** Stable error codes and the generic message a caller may see for each. */
export const ERROR_CODES = {
  // configuration and start-up
  ERR_CONFIG_INVALID: 'invalid configuration',

  // database, migrations, audit
  ERR_DB_UNAVAILABLE: 'database unavailable',
  ERR_DB_MIGRATION_FAILED: 'database migration failed',
  ERR_AUDIT_UNAVAILABLE: 'audit log unavailable; request refused',
  ERR_AUDIT_CHAIN_BROKEN: 'audit chain broken',
  ERR_AUDIT_SINK_GAP: 'audit rows missing before they reached a sink',
  ERR_AUDIT_SINK_LAGGING: 'an audit sink is behind its bound',
  ERR_AUDIT_CHECKPOINT_INVALID: 'audit checkpoint signature or statement is invalid',
  ERR_AUDIT_CHECKPOINT_MISSING: 'a signed audit checkpoint is not in the database',
  ERR_AUDIT_ARCHIVE_BEYOND_HEAD: 'archive boundary lies beyond the audit chain head',
  ERR_AUDIT_ARCHIVE_NOTHING: 'no checkpointed audit rows before the archive boundary',
  ERR_AUDIT_ARCHIVE_DIR: 'archive directory cannot be written',
  ERR_AUDIT_ARCHIVE_INVALID: 'archived audit segment does not verify',

  // master-key cryptography
  ERR_CRYPTO_BAD_KEY: 'master key must be 32 bytes, base64-encoded',
  ERR_CRYPTO_OPEN_FAILED: 'sealed data failed authentication',

  // generic request problems
  ERR_REQUEST_INVALID: 'request is invalid',
  ERR_REQUEST_TOO_LARGE: 'request body too large',
  ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE: 'unsupported content type',
  ERR_REQUEST_NOT_FOUND: 'route not found',
  ERR_REQUEST_RATE_LIMITED: 'too many requests',
  ERR_INTERNAL: 'internal error',

  // compliance reports
  ERR_COMPLIANCE_INPUT_INVALID: 'compliance input (manifests or dependency audit) is invalid',

  // SPIFFE identifiers
  ERR_SPIFFE_ID_INVALID: 'invalid SPIFFE ID',
  ERR_SPIFFE_TRUST_DOMAIN_INVALID: 'invalid trust domain',

  // certificate signing requests and issued certificates
  ERR_CSR_MALFORMED: 'certificate signing request is malformed',
  ERR_CSR_BAD_SIGNATURE: 'certificate signing request signature does not verify',
  ERR_CSR_UNSUPPORTED_KEY: 'certificate signing request key type or size is not accepted',
  ERR_CSR_UNSUPPORTED_ALGORITHM: 'certificate signing request signature algorithm is not accepted',
  ERR_X509_SVID_INVALID: 'issued certificate failed X509-SVID validation',
  ERR_X509_TEMPLATE_INVALID: 'certificate parameters are invalid',

  // certificate authority
  ERR_CA_UNAVAILABLE: 'certificate authority unavailable',
  ERR_CA_UPSTREAM_INVALID: 'upstream CA certificate or key is invalid',
  ERR_CA_UNKNOWN_AUTHORITY: 'no certificate authority with this id',
  ERR_CA_LAST_AUTHORITY:
    'the signing CA can only be distrusted together with activating a new one (rotate)',

  // rotating keyrings (access-token signing keys, JWT authorities)
  ERR_KEYRING_UNKNOWN_KEY: 'no key with this id',
  ERR_KEYRING_LAST_KEY: 'the signing key can only be distrusted together with activating a new one',

  // pod attestation (callers see only the code; detail goes to logs and audit)
  ERR_ATTEST_TOKEN_MISSING: 'bearer token required',
  ERR_ATTEST_TOKEN_INVALID: 'token was not accepted',
  ERR_ATTEST_AUDIENCE_MISMATCH: 'token audience not accepted',
  ERR_ATTEST_TOKEN_NOT_POD_BOUND: 'token is not bound to a pod',
  ERR_ATTEST_POD_NOT_FOUND: 'pod not found',
  ERR_ATTEST_POD_UID_MISMATCH: 'pod does not match the token',
  ERR_ATTEST_POD_TERMINATING: 'pod is terminating',
  ERR_ATTEST_POD_NOT_RUNNING: 'pod is not pending or running',
  ERR_ATTEST_SERVICE_ACCOUNT_MISMATCH: 'pod service account does not match the token',
  ERR_ATTEST_FORBIDDEN: 'attestation refused by the Kubernetes API',
  ERR_ATTEST_UNAVAILABLE: 'Kubernetes API unavailable',

  // policy
  ERR_POLICY_INVALID: 'policy document is invalid',
  ERR_POLICY_NO_REGISTRATION: 'no registration matches this workload',
  ERR_POLICY_DENIED: 'access denied by policy',

  // authentication and access tokens
  ERR_AUTHN_CLIENT_CERT_REQUIRED: 'client certificate required',
  ERR_AUTHN_CLIENT_CERT_INVALID: 'client certificate not accepted',
  ERR_AUTHN_CA_DISTRUSTED: 'SVID signed by a distrusted certificate authority; obtain a new one',
  ERR_AUTHN_TOKEN_MISSING: 'access token required',
  ERR_AUTHN_TOKEN_INVALID: 'access token not accepted',
  ERR_AUTHN_TOKEN_REVOKED: 'access token revoked',
  ERR_AUTHN_API_KEY_INVALID: 'API key not accepted',
  ERR_AUTHN_NOT_ADMIN: 'admin access required',
  ERR_AUTHN_WORKLOAD_NOT_REGISTERED: 'workload is no longer registered',
  ERR_AUTHN_POD_GONE: 'pod that owns this SVID no longer exists',
  ERR_AUTHN_SIGNING_UNAVAILABLE: 'access tokens cannot be signed now; retry later',

  // JWT-SVIDs: issuance, and validation with go-spiffe's rejection reasons as messages
  ERR_JWTSVID_AUDIENCE_INVALID: 'audience must be 1 to 16 strings of 1 to 256 characters',
  ERR_JWTSVID_AUTHORITY_UNAVAILABLE: 'JWT authority unavailable',
  ERR_JWTSVID_ISSUED_INVALID: 'issued token failed JWT-SVID validation',
  ERR_JWTSVID_MALFORMED: 'unable to parse JWT token',
  ERR_JWTSVID_TYPE_UNSUPPORTED: 'unsupported header type, expecting JWT or JOSE',
  ERR_JWTSVID_ALGORITHM_UNSUPPORTED: 'unsupported token signature algorithm',
  ERR_JWTSVID_KID_MISSING: 'token header missing key id',
  ERR_JWTSVID_SUBJECT_MISSING: 'token missing subject claim',
  ERR_JWTSVID_SUBJECT_INVALID: 'token has an invalid subject claim',
  ERR_JWTSVID_TRUST_DOMAIN_MISMATCH: "no bundle found for the subject's trust domain",
  ERR_JWTSVID_EXPIRY_MISSING: 'token missing exp claim',
  ERR_JWTSVID_AUTHORITY_UNKNOWN: 'no JWT authority found for the key ID',
  ERR_JWTSVID_SIGNATURE_INVALID: 'unable to get claims from token',
  ERR_JWTSVID_EXPIRED: 'token has expired',
  ERR_JWTSVID_NOT_YET_VALID: 'token not valid yet',
  ERR_JWTSVID_AUDIENCE_MISSING: 'token missing aud claim',
  ERR_JWTSVID_AUDIENCE_MISMATCH: 'expected audience not in token',

  // SPIFFE federation: foreign bundles fetched from their bundle endpoints
  ERR_FEDERATION_ENDPOINT_UNREACHABLE: 'the bundle endpoint did not answer with a bundle',
  ERR_FEDERATION_ENDPOINT_UNAUTHENTICATED:
    "the bundle endpoint's certificate does not match its profile",
  ERR_FEDERATION_BUNDLE_MALFORMED: 'the fetched bundle is not a valid SPIFFE bundle',
  ERR_FEDERATION_BUNDLE_TRUST_DOMAIN_MISMATCH: 'the fetched bundle names another trust domain',
  ERR_FEDERATION_BUNDLE_SEQUENCE_REGRESSED: 'the fetched bundle is older than the one kept',

  // secrets
  ERR_SECRET_BAD_PATH: 'invalid secret path',
  ERR_SECRET_NOT_FOUND: 'secret not found',
  ERR_SECRET_TOO_LARGE: 'secret value too large',
  ERR_SECRET_BAD_VALUE: 'secret value must be a UTF-8 string',
  ERR_SECRET_INTEGRITY: 'stored secret failed integrity check',

  // Open Service Broker endpoint (/v2; OSB responses carry the OSB error body, not ours)
  ERR_BROKER_UNAUTHORIZED: 'broker credentials not accepted',
  ERR_BROKER_API_VERSION_UNSUPPORTED:
    'X-Broker-API-Version 2.13 or later (major version 2) is required',
  ERR_BROKER_ORIGINATING_IDENTITY_INVALID: 'X-Broker-API-Originating-Identity is malformed',
  ERR_BROKER_REQUEST_INVALID: 'request is malformed or missing mandatory data',
  ERR_BROKER_PLAN_UNKNOWN: 'service_id or plan_id is not in the catalog',
  ERR_BROKER_INSTANCE_NOT_FOUND: 'service instance does not exist',
  ERR_BROKER_BINDING_NOT_FOUND: 'service binding does not exist',
  ERR_BROKER_INSTANCE_CONFLICT: 'service instance already exists with different attributes',
  ERR_BROKER_BINDING_CONFLICT: 'service binding already exists with different parameters',
  ERR_BROKER_INSTANCE_GONE: 'service instance does not exist',
  ERR_BROKER_BINDING_GONE: 'service binding does not exist',
  ERR_BROKER_CONCURRENCY: 'another operation on this service instance is in progress',
  ERR_BROKER_MAINTENANCE_INFO_CONFLICT: 'maintenance_info.version does not match the catalog',

  // sidecar (never sent over HTTP; statuses exist because the status table is total)
  ERR_SIDECAR_TOKEN_UNREADABLE: 'projected service account token could not be read',
  ERR_SIDECAR_TRUST_UNAVAILABLE: 'no CA bundle to verify the Hallmark server',
  ERR_SIDECAR_SERVER_UNREACHABLE: 'Hallmark server unreachable',
  ERR_SIDECAR_SERVER_REFUSED: 'Hallmark server refused the request',
  ERR_SIDECAR_BAD_RESPONSE: 'Hallmark server response was not understood',
  ERR_SIDECAR_OUTPUT_FAILED: 'credential files could not be written',
  ERR_SIDECAR_ONCE_TIMEOUT: 'credentials were not obtained in time',

  // the SPIFFE Workload API served by the sidecar (gRPC statuses: sidecar/grpc-status.ts)
  ERR_WORKLOADAPI_HEADER_MISSING: 'the security header workload.spiffe.io: true is required',
  ERR_WORKLOADAPI_REQUEST_INVALID: 'a mandatory request field is empty',
  ERR_WORKLOADAPI_SVID_UNAVAILABLE: 'no valid X509-SVID: none obtained yet, or it expired',
  ERR_WORKLOADAPI_NOT_ENTITLED: 'the workload is not entitled to this identity',
  ERR_WORKLOADAPI_SOCKET_IN_USE: 'another process serves the Workload API socket',
  ERR_WORKLOADAPI_SOCKET_FAILED: 'the Workload API socket could not be created',
  ERR_WORKLOADAPI_STOPPING: 'the sidecar is stopping',
} as const;

/** Any stable Hallmark error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** True when `code` is one of the registry's codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}
