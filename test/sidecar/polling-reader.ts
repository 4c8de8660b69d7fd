// A reader in a worker thread that polls files about 1,000 times a second and counts every
// read that is missing, empty or does not match the file's full pattern (a partial write).
import { Worker } from 'node:worker_threads';

/** A file to poll and the pattern every complete version of it matches. */
export interface PolledFile {
  readonly path: string;
  readonly pattern: RegExp;
}

/** What the reader saw. */
export interface PollingReport {
  reads: number;
  bad: number;
  firstBad: string;
  /** Distinct contents seen, per file path. */
  versions: Record<string, number>;
}

const READER = `
const { readFileSync } = require('node:fs');
const { parentPort, workerData } = require('node:worker_threads');
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const stopFlag = new Int32Array(workerData.stop);
const files = workerData.files.map((f) => ({ path: f.path, pattern: new RegExp(f.source, f.flags), seen: new Set() }));
let reads = 0, bad = 0, firstBad = '';
while (Atomics.load(stopFlag, 0) === 0) {
  for (const file of files) {
    let text;
    try { text = readFileSync(file.path, 'utf8'); } catch (err) { bad++; firstBad ||= file.path + ': ' + err.code; continue; }
    reads++;
    if (!file.pattern.test(text)) { bad++; firstBad ||= file.path + ': ' + text.length + ' bytes'; }
    else file.seen.add(text);
  }
  Atomics.wait(sleeper, 0, 0, 1);
}
const versions = {};
for (const file of files) versions[file.path] = file.seen.size;
parentPort.postMessage({ reads, bad, firstBad, versions });
`;

/** Starts polling; `stop()` ends it and returns the report. */
export function startPollingReader(files: readonly PolledFile[]): {
  stop(): Promise<PollingReport>;
} {
  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(READER, {
    eval: true,
    workerData: {
      stop,
      files: files.map((f) => ({ path: f.path, source: f.pattern.source, flags: f.pattern.flags })),
    },
  });
  const report = new Promise<PollingReport>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    async stop() {
      Atomics.store(new Int32Array(stop), 0, 1);
      const result = await report;
      await worker.terminate();
      return result;
    },
  };
}

/** One or more complete PEM certificates. */
export const CERTIFICATES_PEM =
  /^(-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n?)+$/;
/** One complete PKCS#8 private key. */
export const PRIVATE_KEY_PEM =
  /^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END PRIVATE KEY-----\n?$/;
/** One compact JWS. */
export const COMPACT_JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
