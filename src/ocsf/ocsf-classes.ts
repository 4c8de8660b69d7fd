// Facts from the OCSF schema 1.8.0 about the event classes Hallmark emits: ids, activities, required attributes.

/** The OCSF schema release these events follow (`metadata.version`). */
export const OCSF_VERSION = '1.8.0';

/** The OCSF classes Hallmark's audit events use. */
export type OcsfClassName =
  'account_change' | 'authentication' | 'entity_management' | 'api_activity' | 'application_error';

/**
 * A requirement on an event, as a list of alternatives: at least one of the dotted attribute
 * paths must be present and non-empty. A plain required attribute is a list of one.
 */
export type Requirement = readonly string[];

/** What the schema says about one class. */
export interface OcsfClass {
  readonly name: OcsfClassName;
  readonly caption: string;
  readonly classUid: number;
  readonly categoryUid: number;
  readonly categoryName: string;
  /** `activity_id` → caption; 0 (Unknown) and 99 (Other) come from the base event. */
  readonly activities: Readonly<Record<number, string>>;
  /** The class's own required attributes and constraints (the base event's are separate). */
  readonly requires: readonly Requirement[];
}

/**
 * Required by the base event (`events/base_event.json`): activity_id, category_uid, class_uid,
 * metadata (whose product and version are required, `objects/metadata.json`; a product is an
 * `_entity`: name or uid), severity_id, time, type_uid.
 */
export const BASE_EVENT_REQUIRES: readonly Requirement[] = [
  ['activity_id'],
  ['category_uid'],
  ['class_uid'],
  ['metadata.product.name', 'metadata.product.uid'],
  ['metadata.version'],
  ['severity_id'],
  ['time'],
  ['type_uid'],
];

// `objects/user.json`: at_least_one of account, name, uid.
const user = (path: string): Requirement => [`${path}.uid`, `${path}.name`, `${path}.account`];
// `objects/actor.json`: at_least_one of process, user, invoked_by, session, app_name, app_uid.
const actor: Requirement = [
  'actor.user',
  'actor.process',
  'actor.invoked_by',
  'actor.session',
  'actor.app_name',
  'actor.app_uid',
];

/** The classes, keyed by name. */
export const OCSF_CLASSES: Readonly<Record<OcsfClassName, OcsfClass>> = {
  // events/iam/account_change.json: `user` required.
  account_change: {
    name: 'account_change',
    caption: 'Account Change',
    classUid: 3001,
    categoryUid: 3,
    categoryName: 'Identity & Access Management',
    activities: {
      1: 'Create',
      2: 'Enable',
      3: 'Password Change',
      4: 'Password Reset',
      5: 'Disable',
      6: 'Delete',
      7: 'Attach Policy',
      8: 'Detach Policy',
      9: 'Lock',
      10: 'MFA Factor Enable',
      11: 'MFA Factor Disable',
      12: 'Unlock',
    },
    requires: [user('user')],
  },
  // events/iam/authentication.json: `user` required; constraint at_least_one service, dst_endpoint.
  authentication: {
    name: 'authentication',
    caption: 'Authentication',
    classUid: 3002,
    categoryUid: 3,
    categoryName: 'Identity & Access Management',
    activities: {
      1: 'Logon',
      2: 'Logoff',
      3: 'Authentication Ticket',
      4: 'Service Ticket Request',
      5: 'Service Ticket Renew',
      6: 'Preauth',
      7: 'Account Switch',
    },
    requires: [user('user'), ['service.name', 'service.uid', 'dst_endpoint']],
  },
  // events/iam/entity_management.json: `entity` (a managed_entity: at_least_one name, uid, ...).
  entity_management: {
    name: 'entity_management',
    caption: 'Entity Management',
    classUid: 3004,
    categoryUid: 3,
    categoryName: 'Identity & Access Management',
    activities: {
      1: 'Create',
      2: 'Read',
      3: 'Update',
      4: 'Delete',
      5: 'Move',
      6: 'Enroll',
      7: 'Unenroll',
      8: 'Enable',
      9: 'Disable',
      10: 'Activate',
      11: 'Deactivate',
      12: 'Suspend',
      13: 'Resume',
    },
    requires: [['entity.name', 'entity.uid']],
  },
  // events/application/api_activity.json: actor, api (operation required), src_endpoint (a
  // network_endpoint: at_least_one ip, uid, name, hostname, svc_name, ...) required.
  api_activity: {
    name: 'api_activity',
    caption: 'API Activity',
    classUid: 6003,
    categoryUid: 6,
    categoryName: 'Application Activity',
    activities: { 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete' },
    requires: [
      actor,
      ['api.operation'],
      ['src_endpoint.ip', 'src_endpoint.uid', 'src_endpoint.name', 'src_endpoint.hostname'],
    ],
  },
  // events/application/application_error.json: nothing beyond the base event; `message` is
  // where the class says the error goes, so it is required here.
  application_error: {
    name: 'application_error',
    caption: 'Application Error',
    classUid: 6008,
    categoryUid: 6,
    categoryName: 'Application Activity',
    activities: { 1: 'General Error', 2: 'Translation Error' },
    requires: [['message']],
  },
};

/** OCSF `status_id` (base event). */
export const STATUS = { success: 1, failure: 2 } as const;

/** OCSF `severity_id` (base event). */
export const SEVERITY = { informational: 1, low: 2, medium: 3, high: 4, critical: 5 } as const;

/** OCSF `user.type_id` (`objects/user.json`). */
export const USER_TYPE = {
  unknown: 0,
  user: 1,
  admin: 2,
  system: 3,
  service: 4,
  other: 99,
} as const;

/** OCSF `type_uid`: class_uid × 100 + activity_id (base event). */
export function typeUid(classUid: number, activityId: number): number {
  return classUid * 100 + activityId;
}
