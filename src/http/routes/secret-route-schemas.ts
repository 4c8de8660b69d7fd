// JSON schemas of the secret routes; response schemas are allow-lists of the fields sent.

/** `?version=N`: a positive integer below 2^31 (the column type), as query strings are text. */
export const readQuerySchema = {
  type: 'object',
  properties: { version: { type: 'string', pattern: '^[1-9][0-9]{0,8}$' } },
  additionalProperties: false,
} as const;

/**
 * The wildcard parameter is declared but not used: the path is read from the raw request
 * target (see `rawSecretPath`), because the router decodes `%2F` inside the parameter.
 */
export const wildcardParamsSchema = {
  type: 'object',
  properties: { '*': { type: 'string' } },
  required: ['*'],
} as const;

/** `GET /v1/secrets/<path>` → `{path, version, value}`. */
export const secretResponseSchema = {
  type: 'object',
  properties: {
    path: { type: 'string' },
    version: { type: 'integer' },
    value: { type: 'string' },
  },
  required: ['path', 'version', 'value'],
  additionalProperties: false,
} as const;

/** The most paths one batch may name (docs/http-api.md). */
export const MAX_BATCH_PATHS = 500;

/** Enough for 500 maximal valid paths (512 ASCII bytes each, quoted, comma-separated). */
export const BATCH_BODY_LIMIT = 262_144;

/** `POST /v1/secrets/batch` body: 1–500 unique paths, checked one by one in the handler. */
export const batchBodySchema = {
  type: 'object',
  properties: {
    paths: {
      type: 'array',
      items: { type: 'string' },
      minItems: 1,
      maxItems: MAX_BATCH_PATHS,
      uniqueItems: true,
    },
  },
  required: ['paths'],
  additionalProperties: false,
} as const;

/** `{"secrets": {"<path>": "<value>"}}`: string values only, nothing else at the top level. */
export const batchResponseSchema = {
  type: 'object',
  properties: {
    secrets: { type: 'object', additionalProperties: { type: 'string' } },
  },
  required: ['secrets'],
  additionalProperties: false,
} as const;

/** `PUT /v1/secrets/<path>` body: `{"value": "..."}`. */
export const writeBodySchema = {
  type: 'object',
  properties: { value: { type: 'string' } },
  required: ['value'],
  additionalProperties: false,
} as const;

/** `PUT` → `{path, version}`; the value is never echoed. */
export const writeResponseSchema = {
  type: 'object',
  properties: { path: { type: 'string' }, version: { type: 'integer' } },
  required: ['path', 'version'],
  additionalProperties: false,
} as const;

/**
 * Body limit of `PUT` for a value limit of `maxValueBytes`: JSON may spell one byte as six
 * characters (`\u0001`), plus room for the object around it.
 */
export function writeBodyLimit(maxValueBytes: number): number {
  return maxValueBytes * 6 + 1024;
}
