// Which OCSF class and activity each audit action becomes, and why (docs/audit.md prints this table).
import type { AuditAction, NamedAuditAction } from '../audit/index.js';
import type { OcsfClassName } from './ocsf-classes.js';

/** The OCSF shape of one audit action. */
export interface ActionMapping {
  readonly class: OcsfClassName;
  readonly activityId: number;
  /** For Entity Management: `entity.type` (what is managed). */
  readonly entityType?: string;
}

const auth = (activityId: number): ActionMapping => ({ class: 'authentication', activityId });
const api = (activityId: number): ActionMapping => ({ class: 'api_activity', activityId });
const entity = (activityId: number, entityType: string): ActionMapping => ({
  class: 'entity_management',
  activityId,
  entityType,
});

// Activity ids, named as in the schema.
const LOGON = 1;
const SERVICE_TICKET_REQUEST = 4;
const CREATE = 1;
const READ = 2;
const UPDATE = 3;
const DELETE = 4;
const DISABLE = 9;
const ACTIVATE = 10;
const ACCOUNT_CREATE = 1;
const ACCOUNT_PASSWORD_CHANGE = 3;
const ACCOUNT_DISABLE = 5;
const ATTACH_POLICY = 7;
const DETACH_POLICY = 8;
const GENERAL_ERROR = 1;

/**
 * Every named action. Logins are Authentication/Logon; minting a JWT-SVID for an audience is
 * the workload asking for a ticket to a service (Service Ticket Request). Certificate issuance,
 * secret reads and writes and read-only API calls are API Activity. Changes to what Hallmark
 * manages — the policy, CAs, signing keys, broker instances — are Entity Management with the
 * managed thing in `entity.type`. An API-key identity created or revoked is Account Change /
 * Create or Disable. A broker binding grants an identity access to an instance's secrets, so it
 * is Account Change / Attach Policy (unbind: Detach Policy). The sinks' own
 * alarms are Application Error.
 */
export const ACTION_MAPPING: Readonly<Record<NamedAuditAction, ActionMapping>> = {
  // A sum of refused requests from one address: API calls of no single kind (Other).
  'http.preauth.throttled': api(99),
  'authn.login': auth(LOGON),
  'authn.apikey': auth(LOGON),
  'authn.api_key.created': { class: 'account_change', activityId: ACCOUNT_CREATE },
  'authn.api_key.revoked': { class: 'account_change', activityId: ACCOUNT_DISABLE },
  // The key's secret replaced: the account's password changes.
  'authn.api_key.rotated': { class: 'account_change', activityId: ACCOUNT_PASSWORD_CHANGE },
  'svid.jwt.issued': auth(SERVICE_TICKET_REQUEST),
  'svid.jwt.denied': auth(SERVICE_TICKET_REQUEST),
  'svid.x509.issued': api(CREATE),
  'svid.x509.denied': api(CREATE),
  'secret.read': api(READ),
  'secret.write': api(UPDATE),
  // A refusal's target starts with the operation; the builder picks Read or Update from it.
  'secret.denied': api(READ),
  'policy.load': entity(UPDATE, 'Policy'),
  'policy.read': entity(READ, 'Policy'),
  'audit.read': api(READ),
  // A report is a read of the installation's state; the target carries its digest.
  'compliance.report': api(READ),
  'audit.sink.lag': { class: 'application_error', activityId: GENERAL_ERROR },
  'audit.sink.gap': { class: 'application_error', activityId: GENERAL_ERROR },
  // Archiving deletes a prefix of the log Hallmark manages; a refused archive deletes nothing.
  'audit.archived': entity(DELETE, 'Audit Log'),
  'audit.archive.denied': entity(DELETE, 'Audit Log'),
  'ca.rotate': entity(UPDATE, 'Certificate Authority'),
  'ca.created': entity(CREATE, 'Certificate Authority'),
  'ca.prepared': entity(CREATE, 'Certificate Authority'),
  'ca.activated': entity(ACTIVATE, 'Certificate Authority'),
  'ca.distrust': entity(DISABLE, 'Certificate Authority'),
  'ca.read': entity(READ, 'Certificate Authority'),
  'ca.key_destroyed': entity(DELETE, 'Certificate Authority Key'),
  'token_key.prepared': entity(CREATE, 'Access Token Signing Key'),
  'token_key.activated': entity(ACTIVATE, 'Access Token Signing Key'),
  'token_key.dropped': entity(DELETE, 'Access Token Signing Key'),
  'token_key.distrusted': entity(DISABLE, 'Access Token Signing Key'),
  'jwt_authority.created': entity(CREATE, 'JWT Authority'),
  'jwt_authority.prepared': entity(CREATE, 'JWT Authority'),
  'jwt_authority.activated': entity(ACTIVATE, 'JWT Authority'),
  'jwt_authority.dropped': entity(DELETE, 'JWT Authority'),
  'jwt_authority.distrusted': entity(DISABLE, 'JWT Authority'),
  'audit_checkpoint_key.prepared': entity(CREATE, 'Audit Checkpoint Key'),
  'audit_checkpoint_key.activated': entity(ACTIVATE, 'Audit Checkpoint Key'),
  // A foreign trust domain's bundle is something Hallmark keeps; a refused one is a failed update.
  'federation.bundle.bootstrapped': entity(CREATE, 'Federated Bundle'),
  'federation.bundle.updated': entity(UPDATE, 'Federated Bundle'),
  'federation.bundle.refused': entity(UPDATE, 'Federated Bundle'),
  'federation.bundle.removed': entity(DELETE, 'Federated Bundle'),
  'osb.catalog': api(READ),
  'osb.provision': entity(CREATE, 'Service Instance'),
  'osb.update': entity(UPDATE, 'Service Instance'),
  'osb.deprovision': entity(DELETE, 'Service Instance'),
  'osb.instance.fetch': api(READ),
  'osb.instance.last_operation': api(READ),
  'osb.bind': { class: 'account_change', activityId: ATTACH_POLICY },
  'osb.unbind': { class: 'account_change', activityId: DETACH_POLICY },
  'osb.binding.fetch': api(READ),
  'osb.binding.last_operation': api(READ),
};

/**
 * The HTTP fallback actions (a request refused before a route described it) are API Activity,
 * the activity following the method's semantics (RFC 9110 §9.3); any other method is Other (99).
 */
export function httpMapping(method: string): ActionMapping {
  const byMethod: Readonly<Record<string, number>> = {
    get: READ,
    head: READ,
    options: READ,
    post: CREATE,
    put: UPDATE,
    patch: UPDATE,
    delete: DELETE,
  };
  return api(byMethod[method] ?? 99);
}

/** The mapping of any action; undefined for an action no version of Hallmark writes. */
export function mappingOf(action: AuditAction | string): ActionMapping | undefined {
  if (Object.hasOwn(ACTION_MAPPING, action)) return ACTION_MAPPING[action as NamedAuditAction];
  const http = /^http\.([a-z-]+)$/.exec(action);
  return http ? httpMapping(http[1] as string) : undefined;
}
