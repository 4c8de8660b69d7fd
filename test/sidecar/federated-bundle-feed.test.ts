// The sidecar's federated bundles: never older than held, exactly the trust domains the server
// names, written to federated/<td>.pem before anyone hears of them, polled with the SVID.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialDirectory, FederatedBundleFeed } from '../../sidecar/index.js';
import type { FederatedBundle } from '../../sidecar/index.js';
import { MemoryLogger } from './fakes.js';
import { createTestPki } from './test-pki.js';
import { ManualClock } from '../doubles/manual-clock.js';

const clock = new ManualClock(Date.now());

function document(sequence: number | undefined, pems: string[], hint = 30) {
  return {
    keys: pems.map((pem) => {
      const cert = new X509Certificate(pem);
      return {
        ...cert.publicKey.export({ format: 'jwk' }),
        use: 'x509-svid',
        x5c: [cert.raw.toString('base64')],
      };
    }),
    ...(sequence === undefined ? {} : { spiffe_sequence: sequence }),
    spiffe_refresh_hint: hint,
  };
}

/** Timers the test fires by hand. */
class HandTimers {
  pending: { fn: () => void; ms: number }[] = [];
  set(fn: () => void, ms: number): unknown {
    const entry = { fn, ms };
    this.pending.push(entry);
    return entry;
  }
  clear(handle: unknown): void {
    this.pending = this.pending.filter((entry) => entry !== handle);
  }
  /** Fires the one pending timer. */
  fire(): void {
    const [entry] = this.pending.splice(0, 1);
    entry!.fn();
  }
}

const b1 = await createTestPki(clock, 'b.test');
const b2 = await createTestPki(clock, 'b.test');
const c = await createTestPki(clock, 'c.test');

describe('the federated bundle feed', () => {
  let dir: string;
  let store: CredentialDirectory;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-federated-feed-'));
    store = new CredentialDirectory(dir);
    await store.prepare();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the newer bundle per trust domain, writes the files first, drops what the server no longer names', async () => {
    const log = new MemoryLogger();
    const feed = new FederatedBundleFeed({
      ownTrustDomain: () => 'a.test',
      files: store,
      log,
      clock,
    });
    const heard: ReadonlyMap<string, FederatedBundle>[] = [];
    const onDisk: boolean[] = [];
    feed.subscribe((bundles) => {
      heard.push(bundles);
      // Listeners hear of a bundle only once its file is there.
      for (const [td, bundle] of bundles) {
        onDisk.push(
          readFileSync(path.join(dir, 'federated', `${td}.pem`), 'utf8') === bundle.x509Pem,
        );
      }
    });
    await feed.apply(new Map([['b.test', document(5, [b1.bundlePem])]]));
    expect(feed.snapshot().get('b.test')).toMatchObject({ id: 'spiffe://b.test', sequence: 5 });
    expect(heard).toHaveLength(1);

    // Older (a late SVID answer) or identical: nothing changes, nobody is told.
    await feed.apply(new Map([['b.test', document(4, [b2.bundlePem])]]));
    await feed.apply(new Map([['b.test', document(5, [b1.bundlePem])]]));
    expect(heard).toHaveLength(1);
    expect(feed.snapshot().get('b.test')!.sequence).toBe(5);

    await feed.apply(
      new Map([
        ['b.test', document(6, [b1.bundlePem, b2.bundlePem])],
        ['c.test', document(1, [c.bundlePem])],
      ]),
    );
    expect(heard).toHaveLength(2);
    const pem = await readFile(path.join(dir, 'federated', 'b.test.pem'), 'utf8');
    expect(pem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect((await readdir(path.join(dir, 'federated'))).sort()).toEqual([
      'b.test.pem',
      'c.test.pem',
    ]);

    // The server names only c.test now: b.test's file goes, and so does any stray file.
    await writeFile(path.join(dir, 'federated', 'stale.test.pem'), 'old');
    await feed.apply(new Map([['c.test', document(1, [c.bundlePem])]]));
    expect(await readdir(path.join(dir, 'federated'))).toEqual(['c.test.pem']);
    expect([...feed.snapshot().keys()]).toEqual(['c.test']);
    expect(onDisk).not.toContain(false);
  });

  it('ignores a malformed bundle, its own trust domain and names that are not trust domains', async () => {
    const log = new MemoryLogger();
    const feed = new FederatedBundleFeed({ ownTrustDomain: () => 'a.test', log, clock });
    await feed.apply(
      new Map<string, Record<string, unknown>>([
        ['b.test', { keys: 'nope' }],
        ['a.test', document(1, [b1.bundlePem])],
        ['..', document(1, [b1.bundlePem])],
        ['B.TEST', document(1, [b1.bundlePem])],
        ['c.test', document(1, [c.bundlePem])],
      ]),
    );
    expect([...feed.snapshot().keys()]).toEqual(['c.test']);
    expect(log.lines.filter((entry) => entry.message === 'federated bundle ignored')).toHaveLength(
      4,
    );
  });

  it('polls at half the smallest hint with the current SVID, and keeps what it has on failure', async () => {
    const timers = new HandTimers();
    let calls = 0;
    let fail = false;
    const feed = new FederatedBundleFeed({
      log: new MemoryLogger(),
      clock,
      poll: {
        api: {
          federatedBundles: async (client) => {
            calls++;
            expect(client.chainPem).toBe('chain');
            if (fail) throw new Error('down');
            return new Map([['b.test', document(7, [b2.bundlePem], 20)]]);
          },
        },
        client: () => ({ chainPem: 'chain', keyPem: 'key' }),
        timers,
        random: () => 0.5,
      },
    });
    feed.start();
    expect(timers.pending).toEqual([]); // nothing federated: no polling
    await feed.apply(new Map([['b.test', document(6, [b1.bundlePem], 30)]]));
    expect(timers.pending.map((t) => t.ms)).toEqual([15_000]);
    timers.fire();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toBe(1);
    expect(feed.snapshot().get('b.test')!.sequence).toBe(7);
    expect(timers.pending.map((t) => t.ms)).toEqual([10_000]);
    fail = true;
    timers.fire();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toBe(2);
    expect(feed.snapshot().get('b.test')!.sequence).toBe(7);
    feed.stop();
    expect(timers.pending).toEqual([]);
  });
});
