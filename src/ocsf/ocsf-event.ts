// One committed audit row as an OCSF 1.8.0 event: pure, deterministic, every chain field kept.
import type { AuditRecord } from '../audit/index.js';
import { ERROR_CODES, isErrorCode } from '../errors/index.js';
import {
  OCSF_CLASSES,
  OCSF_VERSION,
  SEVERITY,
  STATUS,
  USER_TYPE,
  typeUid,
  type OcsfClassName,
} from './ocsf-classes.js';
import { mappingOf, type ActionMapping } from './ocsf-mapping.js';

/** An OCSF event as JSON. */
export type OcsfEvent = Record<string, unknown> & {
  class_uid: number;
  activity_id: number;
  type_uid: number;
  time: number;
  metadata: Record<string, unknown> & { uid: string; sequence: number; event_code: string };
};

/** Who produced the events (`metadata.product`). */
export interface OcsfProduct {
  /** Hallmark's version (package.json). */
  readonly version: string;
}

interface OcsfUser {
  uid: string;
  name: string;
  type_id: number;
}

/** An audit actor as an OCSF user: the admin key is Admin, workloads and keys are Service. */
export function userOf(actor: string): OcsfUser {
  if (actor === 'key:admin') return { uid: actor, name: 'admin', type_id: USER_TYPE.admin };
  if (actor === 'system' || actor === 'osb:platform')
    return { uid: actor, name: actor, type_id: USER_TYPE.system };
  if (actor === 'anonymous') return { uid: actor, name: actor, type_id: USER_TYPE.unknown };
  if (actor.startsWith('key:'))
    return { uid: actor, name: actor.slice(4), type_id: USER_TYPE.service };
  if (actor.startsWith('osb:')) return { uid: actor, name: actor, type_id: USER_TYPE.user };
  return { uid: actor, name: actor, type_id: USER_TYPE.service };
}

/** An unmapped action (a row written by another version) is still delivered, as Other. */
const UNKNOWN_ACTION: ActionMapping = { class: 'api_activity', activityId: 99 };

const HIGH: ReadonlySet<string> = new Set([
  'audit.sink.gap',
  // a key distrusted after a compromise
  'ca.distrust',
  'token_key.distrusted',
  'jwt_authority.distrusted',
]);

/** OCSF severity_id: refusals are Low, failures Medium; the alarms that matter to a SOC more. */
export function severityOf(record: AuditRecord): number {
  if (HIGH.has(record.action)) return SEVERITY.high;
  if (record.action === 'audit.sink.lag') return SEVERITY.medium;
  if (record.outcome === 'success') return SEVERITY.informational;
  return record.outcome === 'denied' ? SEVERITY.low : SEVERITY.medium;
}

const SEVERITY_NAMES: Readonly<Record<number, string>> = {
  1: 'Informational',
  2: 'Low',
  3: 'Medium',
  4: 'High',
  5: 'Critical',
};

/** `key=value` items of a target such as `osb/i/bindings/b identity=spiffe://… namespace=ns`. */
function targetField(target: string, key: string): string | undefined {
  const match = new RegExp(`(?:^| )${key}=(\\S+)`).exec(target);
  return match?.[1];
}

/** The namespace of a workload SPIFFE ID `spiffe://td/ns/<ns>/sa/<sa>`. */
function workloadNamespace(id: string | undefined): string | undefined {
  return id === undefined ? undefined : /^spiffe:\/\/[^/]+\/ns\/([^/]+)\/sa\//.exec(id)?.[1];
}

/** What an API Activity acted on, from the target's known shapes. */
function resourcesOf(record: AuditRecord): Record<string, unknown>[] {
  const { action, target } = record;
  if (action === 'secret.read' || action === 'secret.write') {
    return target.split(',').map((item) => {
      const at = item.lastIndexOf('@v');
      return at < 0
        ? { type: 'Secret', name: item }
        : { type: 'Secret', name: item.slice(0, at), uid: item };
    });
  }
  if (action === 'secret.denied') {
    return [{ type: 'Secret', name: target.replace(/^(read|write) /, '') }];
  }
  if (action === 'svid.x509.issued') {
    const serial = targetField(target, 'serial');
    return [{ type: 'X509-SVID', name: target.split(' ')[0], ...(serial ? { uid: serial } : {}) }];
  }
  return [{ name: target }];
}

function classFields(record: AuditRecord, mapping: ActionMapping): Record<string, unknown> {
  const user = userOf(record.actor);
  const { action, target } = record;
  switch (mapping.class) {
    case 'authentication': {
      const audiences = /^aud=(\[.*\])/.exec(target)?.[1];
      const jti = targetField(target, 'jti');
      return {
        user,
        // The service logged on to: Hallmark, or for a JWT-SVID the audiences it is minted for.
        service: { name: audiences ?? 'hallmark' },
        auth_protocol_id: 99,
        auth_protocol: action === 'authn.apikey' ? 'API key' : 'X509-SVID (mutual TLS)',
        ...(jti ? { session: { uid: jti } } : {}),
      };
    }
    case 'entity_management': {
      const version = /@(\S+)$/.exec(target)?.[1];
      return {
        entity: {
          type: mapping.entityType,
          uid: target,
          name: version === undefined ? target : target.slice(0, -version.length - 1),
          ...(version ? { version } : {}),
        },
      };
    }
    case 'account_change': {
      const identity = targetField(target, 'identity');
      const granted = identity === undefined ? { uid: target.split(' ')[0] } : userOf(identity);
      return {
        user: granted,
        unmapped: {
          binding: {
            uid: target.split(' ')[0],
            workload_namespace: workloadNamespace(identity),
            context_namespace: targetField(target, 'namespace'),
          },
        },
      };
    }
    case 'application_error':
      return {};
    case 'api_activity': {
      const http = /^http\.(.+)$/.exec(action)?.[1];
      return {
        api: { operation: action, service: { name: 'hallmark' } },
        // The row holds no network address; the caller's identity names the source.
        src_endpoint: { name: record.actor },
        resources: resourcesOf(record),
        ...(http
          ? { http_request: { http_method: http.toUpperCase(), url: { path: target } } }
          : {}),
      };
    }
  }
}

function activityOf(record: AuditRecord, mapping: ActionMapping): number {
  // A refused write is an Update that failed, not a Read.
  if (record.action === 'secret.denied' && record.target.startsWith('write ')) return 3;
  return mapping.activityId;
}

function activityName(name: OcsfClassName, activityId: number): string {
  if (activityId === 99) return 'Other';
  return OCSF_CLASSES[name].activities[activityId] ?? 'Unknown';
}

/**
 * The OCSF event of a committed row. Hallmark's own fields: `metadata.sequence` and
 * `metadata.uid` = seq, `metadata.event_code` = action, `metadata.correlation_uid` = request
 * id, `metadata.original_time` = the row's time as hashed, `status_code` = reason, and
 * `unmapped` = target, outcome, prev_hash, hash — everything needed to re-check the chain.
 */
export function toOcsfEvent(record: AuditRecord, product: OcsfProduct): OcsfEvent {
  const mapping = mappingOf(record.action) ?? UNKNOWN_ACTION;
  const cls = OCSF_CLASSES[mapping.class];
  const activityId = activityOf(record, mapping);
  const severityId = severityOf(record);
  const success = record.outcome === 'success';
  const fields = classFields(record, mapping);
  const { unmapped: classUnmapped, ...classAttributes } = fields as {
    unmapped?: Record<string, unknown>;
  };
  const reason = record.reason === '' ? undefined : record.reason;
  const time = Date.parse(record.time);
  return {
    activity_id: activityId,
    activity_name: activityName(cls.name, activityId),
    category_uid: cls.categoryUid,
    category_name: cls.categoryName,
    class_uid: cls.classUid,
    class_name: cls.caption,
    type_uid: typeUid(cls.classUid, activityId),
    type_name: `${cls.caption}: ${activityName(cls.name, activityId)}`,
    severity_id: severityId,
    severity: SEVERITY_NAMES[severityId],
    status_id: success ? STATUS.success : STATUS.failure,
    status: success ? 'Success' : 'Failure',
    ...(reason ? { status_code: reason } : {}),
    ...(reason && isErrorCode(reason) ? { status_detail: ERROR_CODES[reason] } : {}),
    time,
    time_dt: record.time,
    message: `${record.action} ${record.outcome}${reason ? ` (${reason})` : ''}: ${record.target}`,
    actor: { user: userOf(record.actor) },
    ...classAttributes,
    metadata: {
      uid: String(record.seq),
      sequence: record.seq,
      event_code: record.action,
      ...(record.requestId ? { correlation_uid: record.requestId } : {}),
      original_time: record.time,
      log_name: 'audit',
      product: { name: 'Hallmark', vendor_name: 'Hallmark', version: product.version },
      profiles: ['datetime'],
      version: OCSF_VERSION,
    },
    unmapped: {
      ...classUnmapped,
      target: record.target,
      outcome: record.outcome,
      prev_hash: record.prevHash,
      hash: record.hash,
    },
  };
}
