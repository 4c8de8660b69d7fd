// The floor rows: a bare fastify HTTPS server in its own process (route-floor-server.ts), driven
// exactly like Hallmark, with no work and with only what a login or a batch read cannot skip.
import type { RowName } from './bench-options.js';
import { startJsonProcess } from './bench-process.js';
import { postgresAccount, serverAccount } from './process-cpu.js';
import { loadRow, measureLoad, routeTiming, type BenchContext } from './route-load.js';
import type { RouteFloorServerInfo } from './route-floor-server.js';

const FLOORS: { key: RowName; name: string; path: string; target: string }[] = [
  {
    key: 'noop',
    name: 'HTTPS route, no work',
    path: '/noop',
    target: 'reference: fastify alone; no route beats it',
  },
  {
    key: 'login-floor',
    name: 'login floor',
    path: '/login-floor',
    target: 'reference: only an ES256 JWT + an audit row',
  },
  {
    key: 'batch-floor',
    name: 'batch floor, 10 paths',
    path: '/batch-floor',
    target: 'reference: only 10 AES-GCM opens + an audit row',
  },
];

/** Runs the selected floor rows (none: does not start the floor server). */
export async function runFloorSteps(context: BenchContext): Promise<void> {
  const selected = FLOORS.filter((floor) => context.options.rows.has(floor.key));
  if (selected.length === 0) return;
  const server = await startJsonProcess<RouteFloorServerInfo>('./route-floor-server.ts');
  try {
    const accounts = [serverAccount('server', server.pid), postgresAccount(server.pid)];
    const { connections } = context.options;
    for (const floor of selected) {
      const measured = await measureLoad(
        context.generator(),
        {
          origin: new URL(server.info.url).origin,
          method: 'POST',
          path: floor.path,
          variants: [{ headers: {} }],
          connections,
          ...routeTiming(context.options, { warmupRequests: 2_000, seconds: 5 }),
        },
        accounts,
      );
      loadRow(context, floor.key, `${floor.name} (${connections} conn)`, measured, floor.target);
    }
  } finally {
    await server.stop();
  }
}
