// JSON schemas of the OSB routes: request shapes (unknown fields allowed) and response allow-lists.
import { OSB_ERROR_SCHEMA } from './osb-error.js';

// @see OSB 2.17 "Vendor Extension Fields": receivers MUST ignore unknown fields, so request
// schemas never set additionalProperties: false. Parameters are checked by their own readers.
const nonEmpty = { type: 'string', minLength: 1 } as const;
const object = { type: 'object' } as const;
const maintenanceInfo = { type: 'object', properties: { version: { type: 'string' } } } as const;

/** `:instance_id`. */
export const instanceParams = {
  type: 'object',
  properties: { instance_id: { type: 'string' } },
  required: ['instance_id'],
} as const;

/** `:instance_id` and `:binding_id`. */
export const bindingParams = {
  type: 'object',
  properties: { instance_id: { type: 'string' }, binding_id: { type: 'string' } },
  required: ['instance_id', 'binding_id'],
} as const;

/** @see OSB 2.17 "Provisioning" request body. */
export const provisionBody = {
  type: 'object',
  properties: {
    service_id: nonEmpty,
    plan_id: nonEmpty,
    context: object,
    organization_guid: nonEmpty,
    space_guid: nonEmpty,
    parameters: object,
    maintenance_info: maintenanceInfo,
  },
  required: ['service_id', 'plan_id'],
} as const;

/** @see OSB 2.17 "Updating a Service Instance" request body. */
export const updateBody = {
  type: 'object',
  properties: {
    service_id: nonEmpty,
    plan_id: nonEmpty,
    context: object,
    parameters: object,
    previous_values: object,
    maintenance_info: maintenanceInfo,
  },
  required: ['service_id'],
} as const;

/** @see OSB 2.17 "Binding" request body. */
export const bindBody = {
  type: 'object',
  properties: {
    service_id: nonEmpty,
    plan_id: nonEmpty,
    context: object,
    app_guid: nonEmpty,
    bind_resource: object,
    parameters: object,
    predecessor_binding_id: nonEmpty,
  },
  required: ['service_id', 'plan_id'],
} as const;

/** @see OSB 2.17 "Deprovisioning" / "Unbinding": service_id and plan_id are REQUIRED. */
export const deleteQuery = {
  type: 'object',
  properties: { service_id: nonEmpty, plan_id: nonEmpty, accepts_incomplete: { type: 'string' } },
  required: ['service_id', 'plan_id'],
} as const;

/** Fetch and `last_operation` hints: if present, non-empty (@see OSB 2.17). */
export const hintQuery = {
  type: 'object',
  properties: { service_id: nonEmpty, plan_id: nonEmpty, operation: nonEmpty },
} as const;

/** `{}` responses. */
const empty = { type: 'object', properties: {}, additionalProperties: false } as const;

/** Credentials as an allow-list: a field not named here can never reach a platform. */
const credentials = {
  type: 'object',
  properties: {
    url: { type: 'string' },
    trust_domain: { type: 'string' },
    identity: { type: 'string' },
    api_key: { type: 'string' },
    bundle: { type: 'string' },
    secrets_prefix: { type: 'string' },
  },
  required: ['url', 'trust_domain', 'identity', 'bundle', 'secrets_prefix'],
  additionalProperties: false,
} as const;

const errors = { '4xx': OSB_ERROR_SCHEMA, '5xx': OSB_ERROR_SCHEMA } as const;

/** Responses of routes answering `{}`. */
export const emptyResponses = { 200: empty, 201: empty, ...errors } as const;

/** Responses of bind. */
export const bindResponses = {
  200: {
    type: 'object',
    properties: { credentials },
    required: ['credentials'],
    additionalProperties: false,
  },
  201: {
    type: 'object',
    properties: { credentials },
    required: ['credentials'],
    additionalProperties: false,
  },
  ...errors,
} as const;

/** Responses of fetch binding. */
export const fetchBindingResponses = {
  200: {
    type: 'object',
    properties: {
      credentials,
      parameters: {
        type: 'object',
        properties: { namespace: { type: 'string' }, serviceAccount: { type: 'string' } },
        additionalProperties: false,
      },
    },
    required: ['credentials', 'parameters'],
    additionalProperties: false,
  },
  ...errors,
} as const;

/** Responses of fetch instance. */
export const fetchInstanceResponses = {
  200: {
    type: 'object',
    properties: { service_id: { type: 'string' }, plan_id: { type: 'string' } },
    required: ['service_id', 'plan_id'],
    additionalProperties: false,
  },
  ...errors,
} as const;

/** Responses of `last_operation`. */
export const lastOperationResponses = {
  200: {
    type: 'object',
    properties: { state: { type: 'string', enum: ['in progress', 'succeeded', 'failed'] } },
    required: ['state'],
    additionalProperties: false,
  },
  ...errors,
} as const;

/** Catalog: its body is a constant sent pre-serialised, so only errors need a schema. */
export const catalogResponses = errors;
