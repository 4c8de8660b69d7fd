// Public surface of the server composition root.
export { startServer } from './hallmark-server.js';
export type { RunningServer, StartOptions } from './hallmark-server.js';
export { prepareDataDir } from './data-dir.js';
