// Liveness, readiness and metrics endpoints.
import type { RoutePlugin } from './app.js';

/** Where `/metrics` gets its text: a prom-client registry, or every worker's gathered. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** Readiness probe: database reachable and migrated (and anything else the server adds). */
export type ReadinessCheck = () => Promise<{ ready: boolean; reason?: string }>;

const statusSchema = {
  type: 'object',
  properties: { status: { type: 'string' }, reason: { type: 'string' } },
  required: ['status'],
  additionalProperties: false,
} as const;

/** Options of {@link healthRoutes}. */
export interface HealthRouteOptions {
  readonly readiness: ReadinessCheck;
  /** What `/metrics` exposes: this process's registry, or every worker's gathered. */
  readonly metrics: MetricsSource;
}

/** `/healthz` (process up), `/readyz` (dependencies ready), `/metrics` (Prometheus text). */
export const healthRoutes: RoutePlugin<HealthRouteOptions> = async (
  app,
  { readiness, metrics: registry },
) => {
  app.get('/healthz', { schema: { response: { 200: statusSchema } } }, async () => ({
    status: 'ok',
  }));
  app.get(
    '/readyz',
    { schema: { response: { 200: statusSchema, 503: statusSchema } } },
    async (_request, reply) => {
      const result = await readiness().catch((err: Error) => ({
        ready: false,
        reason: err.message,
      }));
      if (result.ready) return { status: 'ready' };
      return reply
        .code(503)
        .send({ status: 'not ready', reason: result.reason ?? 'dependencies unavailable' });
    },
  );
  app.get('/metrics', async (_request, reply) => {
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });
};
