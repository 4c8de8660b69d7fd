// GET/PUT /v1/secrets/<path> and POST /v1/secrets/batch: default-deny, audited, fail-closed.
import type { AuditLog } from '../../audit/index.js';
import type { CallerIdentity, TokenVerifier } from '../../authn/index.js';
import type { Clock } from '../../clock/index.js';
import {
  SecretPathError,
  encodeSecretValue,
  parseSecretPath,
  quotePath,
  type SecretPath,
  type SecretStore,
} from '../../secrets/index.js';
import type { RoutePlugin } from '../app.js';
import { authenticate } from '../bearer-authentication.js';
import { changeCommitted, changeEvent, describeRequest } from '../request-audit.js';
import { auditRefusals, auditSuccess, type SecretOperation } from './secret-route-audit.js';
import { rawSecretPath } from './secret-request-path.js';
import {
  BATCH_BODY_LIMIT,
  batchBodySchema,
  batchResponseSchema,
  readQuerySchema,
  secretResponseSchema,
  wildcardParamsSchema,
  writeBodyLimit,
  writeBodySchema,
  writeResponseSchema,
} from './secret-route-schemas.js';

/**
 * May `identity` perform `action` on `path`? The composition root wires this to the policy
 * (`canAccess(policy.current(), identity.id, action, path, brokerGrants)`). It is asked only
 * about parsed paths and never for the admin.
 */
export type SecretAccess = (
  identity: CallerIdentity,
  action: 'read' | 'write',
  path: SecretPath,
) => boolean;

/** Dependencies of {@link secretRoutes}. */
export interface SecretRouteOptions {
  store: SecretStore;
  audit: AuditLog;
  /** Verifies bearer access tokens (authn's `verifier`; ERR_AUTHN_* on failure). */
  tokens: TokenVerifier;
  access: SecretAccess;
  /**
   * Accepted for symmetry with the other route factories; not read today, because the times
   * these routes record come from the audit log and the store, each built with its own clock.
   */
  clock?: Clock;
  /** Largest value in UTF-8 bytes (`HALLMARK_SECRET_MAX_BYTES`, default 65,536). */
  maxValueBytes: number;
}

/**
 * The one check of a path from the URL, made before authentication so the audit target can
 * name it (as sent when valid, JSON-quoted and bounded if not); its refusal waits until the
 * caller is known, by {@link acceptedPath}.
 */
interface PathCheck {
  readonly path: SecretPath | undefined;
  readonly label: string;
  readonly refusal: unknown;
}

function checkPath(raw: string): PathCheck {
  try {
    const path = parseSecretPath(raw);
    return { path, label: path, refusal: undefined };
  } catch (refusal) {
    return { path: undefined, label: quotePath(raw), refusal };
  }
}

/** The parsed path, or its refusal (`ERR_SECRET_BAD_PATH` naming the path). */
function acceptedPath(check: PathCheck): SecretPath {
  if (check.path === undefined) throw check.refusal;
  return check.path;
}

/**
 * The secret routes. Access is default deny: the admin API key identity may read and write
 * every path (it is the operator's break-glass and what `hallmark secret set/get` uses); every
 * other caller needs a grant for the exact action. Reads are audited as `secret.read` with
 * `path@vN` (never the value), writes as `secret.write`, refusals as `secret.denied`; each row
 * is committed before the response is sent (a write's row in the write's own transaction), and
 * a failed audit write fails the request (503) with nothing changed.
 */
export const secretRoutes: RoutePlugin<SecretRouteOptions> = async (app, deps) => {
  const allowed = (caller: CallerIdentity, action: SecretOperation, path: SecretPath): boolean =>
    caller.admin || deps.access(caller, action, path);

  app.get(
    '/v1/secrets/*',
    {
      schema: {
        params: wildcardParamsSchema,
        querystring: readQuerySchema,
        response: { 200: secretResponseSchema },
      },
    },
    async (request) => {
      const version =
        request.query.version === undefined ? undefined : Number(request.query.version);
      let target = '(unparsed)';
      describeRequest(request, { action: 'secret.read', target });
      return auditRefusals(
        deps.audit,
        request,
        'read',
        () => target,
        async () => {
          const check = checkPath(rawSecretPath(request.raw.url ?? request.url));
          target = version === undefined ? check.label : `${check.label}@v${version}`;
          describeRequest(request, { target });
          const caller = await authenticate(request, deps.tokens);
          const path = acceptedPath(check);
          if (!allowed(caller, 'read', path)) throw new SecretPathError('ERR_POLICY_DENIED', path);
          const secret = await deps.store.get(path, version);
          await auditSuccess(deps.audit, request, `${path}@v${secret.version}`);
          return { path: secret.path, version: secret.version, value: secret.value };
        },
      );
    },
  );

  app.post(
    '/v1/secrets/batch',
    {
      bodyLimit: BATCH_BODY_LIMIT,
      schema: { body: batchBodySchema, response: { 200: batchResponseSchema } },
    },
    async (request) => {
      const raw = request.body.paths;
      let target = `batch of ${raw.length}`;
      describeRequest(request, { action: 'secret.read', target });
      return auditRefusals(
        deps.audit,
        request,
        'read',
        () => target,
        async () => {
          const caller = await authenticate(request, deps.tokens);
          // All or nothing, in three passes so the first failing path is the one named:
          // every path well-formed, then every path granted, and only then any database read.
          // The one check of these paths: canAccess and getMany take the parsed SecretPaths.
          const paths = raw.map((path) => {
            try {
              return parseSecretPath(path);
            } catch (refusal) {
              target = quotePath(path);
              throw refusal;
            }
          });
          for (const path of paths) {
            target = path;
            if (!allowed(caller, 'read', path))
              throw new SecretPathError('ERR_POLICY_DENIED', path);
          }
          target = `batch of ${paths.length}`;
          const found = await deps.store.getMany(paths).catch((err: unknown) => {
            if (err instanceof SecretPathError) target = err.path;
            throw err;
          });
          // One row for the batch, so a 10-path batch costs one audit append, not ten.
          const versions = paths.map((path) => `${path}@v${found.get(path)?.version ?? 0}`);
          await auditSuccess(deps.audit, request, versions.join(','));
          // No prototype, so a path named `__proto__` (a valid path) is an own property when
          // assigned; defineProperty did the same at a third more of the answer's cost.
          const secrets: Record<string, string> = Object.create(null) as Record<string, string>;
          for (const [path, secret] of found) secrets[path] = secret.value;
          return { secrets };
        },
      );
    },
  );

  app.put(
    '/v1/secrets/*',
    {
      bodyLimit: writeBodyLimit(deps.maxValueBytes),
      schema: {
        params: wildcardParamsSchema,
        body: writeBodySchema,
        response: { 200: writeResponseSchema },
      },
    },
    async (request) => {
      let target = '(unparsed)';
      describeRequest(request, { action: 'secret.write', target });
      return auditRefusals(
        deps.audit,
        request,
        'write',
        () => target,
        async () => {
          const check = checkPath(rawSecretPath(request.raw.url ?? request.url));
          target = check.label;
          describeRequest(request, { target });
          const caller = await authenticate(request, deps.tokens);
          const path = acceptedPath(check);
          if (!allowed(caller, 'write', path)) throw new SecretPathError('ERR_POLICY_DENIED', path);
          // Checked here too so an oversized value is refused before any database work.
          encodeSecretValue(request.body.value, deps.maxValueBytes).fill(0);
          // The audit row commits with the version: no write without its row, and no row
          // (nor version number) for a write that did not commit.
          const written = await deps.store.put(path, request.body.value, caller.id, {
            audit: {
              log: deps.audit,
              event: (version) => changeEvent(request, { target: `${path}@v${version}` }),
            },
          });
          changeCommitted(request);
          return { path: written.path, version: written.version };
        },
      );
    },
  );
};
