// GET and POST /v1/compliance: the admin runs every compliance control against the live installation.
import type { FastifyRequest } from 'fastify';
import type { AuditLog } from '../../audit/index.js';
import type { TokenVerifier } from '../../authn/index.js';
import type {
  DependencyAudit,
  ManifestFile,
  ProducedReport,
  SuppliedInputs,
} from '../../compliance/index.js';
import { suppliedManifests } from '../../compliance/index.js';
import type { RoutePlugin } from '../app.js';
import { authenticateAdmin } from '../bearer-authentication.js';
import { auditRequest, describeRequest } from '../request-audit.js';

/** Largest request body: manifests of a whole installation fit many times over. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

const severities = ['info', 'low', 'moderate', 'high', 'critical'];
const shortText = (maxLength: number) => ({ type: 'string', maxLength }) as const;
const time = { type: 'integer', minimum: 0 } as const;

const advisorySchema = {
  type: 'object',
  properties: {
    title: shortText(300),
    url: shortText(300),
    severity: { enum: severities },
    range: shortText(300),
  },
  required: ['title', 'url', 'severity', 'range'],
  additionalProperties: false,
} as const;

const dependencySchema = {
  type: 'object',
  properties: {
    ran: { type: 'boolean' },
    tool: shortText(100),
    auditedAt: time,
    packageVersion: shortText(64),
    lockfileSha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    reason: shortText(1000),
    dependencies: { type: 'integer', minimum: 0 },
    counts: {
      type: 'object',
      properties: Object.fromEntries(severities.map((s) => [s, { type: 'integer', minimum: 0 }])),
      required: severities,
      additionalProperties: false,
    },
    packages: {
      type: 'array',
      maxItems: 5000,
      items: {
        type: 'object',
        properties: {
          name: shortText(214),
          severity: { enum: severities },
          range: shortText(300),
          fixAvailable: { type: 'boolean' },
          advisories: { type: 'array', maxItems: 100, items: advisorySchema },
          through: { type: 'array', maxItems: 100, items: shortText(214) },
        },
        required: ['name', 'severity', 'range', 'fixAvailable', 'advisories', 'through'],
        additionalProperties: false,
      },
    },
  },
  required: ['ran', 'tool', 'auditedAt', 'packageVersion', 'lockfileSha256'],
  additionalProperties: false,
} as const;

const bodySchema = {
  type: 'object',
  properties: {
    manifests: {
      type: 'object',
      properties: {
        source: shortText(1024),
        files: {
          type: 'array',
          maxItems: 1000,
          items: {
            type: 'object',
            properties: { path: shortText(1024), content: shortText(1_048_576) },
            required: ['path', 'content'],
            additionalProperties: false,
          },
        },
      },
      required: ['source', 'files'],
      additionalProperties: false,
    },
    dependencies: dependencySchema,
  },
  additionalProperties: false,
} as const;

interface ComplianceBody {
  manifests?: { source: string; files: ManifestFile[] };
  dependencies?: DependencyAudit;
}

/** Dependencies of the compliance routes (their plugin options). */
export interface ComplianceRouteOptions {
  /** Verifies bearer access tokens (authn's `verifier`). */
  readonly tokens: TokenVerifier;
  readonly audit: AuditLog;
  /** Gathers, evaluates and signs one report (src/compliance `produceReport`, wired by the server). */
  readonly produce: (supplied: SuppliedInputs) => Promise<ProducedReport>;
}

/**
 * Admin only. `GET` evaluates what the server sees; `POST` also takes what only the operator
 * sees (the manifests the installation was deployed from, an npm audit of its lockfile). Each
 * run writes a `compliance.report` row with the report's digest before the report is sent.
 */
export const complianceRoutes: RoutePlugin<ComplianceRouteOptions> = async (app, deps) => {
  const run = async (
    request: FastifyRequest,
    supplied: () => SuppliedInputs,
  ): Promise<ProducedReport['report']> => {
    describeRequest(request, { action: 'compliance.report', target: 'compliance' });
    await authenticateAdmin(request, deps.tokens);
    const { report, digest } = await deps.produce(supplied());
    const { pass, fail, notApplicable } = report.summary;
    await auditRequest(deps.audit, request, 'success', '', {
      target: `sha256=${digest} pass=${pass} fail=${fail} not-applicable=${notApplicable}`,
    });
    return report;
  };
  app.get('/v1/compliance', async (request) => run(request, () => ({})));
  app.post<{ Body: ComplianceBody }>(
    '/v1/compliance',
    { bodyLimit: MAX_BODY_BYTES, schema: { body: bodySchema } },
    async (request) =>
      run(request, () => ({
        ...(request.body.manifests
          ? {
              manifests: suppliedManifests(
                request.body.manifests.source,
                request.body.manifests.files,
              ),
            }
          : {}),
        ...(request.body.dependencies ? { dependencies: request.body.dependencies } : {}),
      })),
  );
};
