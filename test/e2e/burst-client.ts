// A client in a worker thread that sends a burst of requests at once, as many callers elsewhere
// would: its TLS and HTTP work stays off the event loop of the server under test.
import { Worker } from 'node:worker_threads';

/** One request of the burst. */
export interface BurstRequest {
  readonly method: string;
  readonly path: string;
  readonly body?: string;
}

/** What came back, with the time from sending to the last byte. */
export interface BurstAnswer {
  readonly status: number;
  readonly text: string;
  readonly ms: number;
}

const CLIENT = `
const https = require('node:https');
const { performance } = require('node:perf_hooks');
const { parentPort, workerData } = require('node:worker_threads');
const { url, ca, headers, requests } = workerData;
const agent = new https.Agent({ keepAlive: true, maxSockets: requests.length, ca });
function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = https.request(url + path, {
      method, agent,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode, text, ms: performance.now() - started }));
    });
    req.setTimeout(20000, () => req.destroy(new Error('no answer within 20 s')));
    req.on('error', reject);
    req.end(body);
  });
}
(async () => {
  // Every connection and its TLS handshake first, so the burst measures the requests alone.
  await Promise.all(requests.map(() => call('GET', '/healthz')));
  parentPort.postMessage({ warmed: true });
  await new Promise((resolve) => parentPort.once('message', resolve));
  const answers = await Promise.all(requests.map((r) => call(r.method, r.path, r.body)));
  agent.destroy();
  parentPort.postMessage({ answers });
})().catch((err) => parentPort.postMessage({ error: String(err && err.stack || err) }));
`;

/**
 * Opens one connection per request, calls `whileBursting` once they are all open, then sends
 * every request at once and resolves with the answers (in request order) and what
 * `whileBursting` returned once it finished.
 */
export async function sendBurst<T>(
  target: { url: string; ca: string; headers: Record<string, string> },
  requests: readonly BurstRequest[],
  whileBursting: (done: () => boolean) => Promise<T>,
): Promise<{ answers: BurstAnswer[]; observed: T }> {
  const worker = new Worker(CLIENT, { eval: true, workerData: { ...target, requests } });
  try {
    const next = (): Promise<{ warmed?: true; answers?: BurstAnswer[]; error?: string }> =>
      new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    const warmed = await next();
    if (warmed.error !== undefined) throw new Error(warmed.error);
    let finished = false;
    const answered = next();
    worker.postMessage('go');
    const observing = whileBursting(() => finished);
    const result = await answered.finally(() => (finished = true));
    const observed = await observing;
    if (result.answers === undefined) throw new Error(result.error ?? 'burst client failed');
    return { answers: result.answers, observed };
  } finally {
    await worker.terminate();
  }
}
