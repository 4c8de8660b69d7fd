// Public surface of the server composition root.
export { startServer } from './hallmark-server.js';
export type { RunningServer, StartOptions, WorkerRole } from './hallmark-server.js';
export { prepareDataDir } from './data-dir.js';
export { prepareHost, embeddedMaxConnections } from './host-preparation.js';
export type { PreparedHost } from './host-preparation.js';
export { startCluster } from './cluster-primary.js';
export type { RunningCluster, ClusterOptions } from './cluster-primary.js';
export { serveAsWorker } from './cluster-worker.js';
export { BundleFile } from './bundle-file.js';
export { WorkerRestarts, DEFAULT_RESTART_POLICY } from './worker-restarts.js';
export type { RestartDecision, RestartPolicy } from './worker-restarts.js';
