// The https_web bundle endpoint's Web PKI certificate: a renewal on disk is presented without a
// restart, a half-written or mismatched renewal is not, and the trusted Web roots are checked.
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startBundleEndpoint,
  type BundleEndpointServer,
} from '../../src/http/bundle-endpoint-server.js';
import { WebPkiCertificate, loadWebRoots } from '../../src/server/web-pki-certificate.js';
import { createWebPki, type WebPki } from '../federation/web-pki.js';
import { waitFor } from '../sidecar/wait-for.js';

const DOCUMENT = { keys: [], spiffe_sequence: 1, spiffe_refresh_hint: 300 };

let dir: string;
let web: WebPki;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-web-pki-'));
  web = createWebPki();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Replaces `file` the way cert-manager or certbot do: a new file renamed over the old. */
async function replace(file: string, text: string): Promise<void> {
  await writeFile(`${file}.new`, text);
  await rename(`${file}.new`, file);
}

/** The serial number of the certificate a TLS client that trusts the Web root is shown. */
function presentedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: web.rootPem }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.once('error', reject);
  });
}

const serialOf = (pem: string): string => new X509Certificate(pem).serialNumber;

describe('the Web PKI certificate of the bundle endpoint', () => {
  it('presents a renewed certificate without a restart, and keeps it over a mismatched pair', async () => {
    const certPath = path.join(dir, 'tls.crt');
    const keyPath = path.join(dir, 'tls.key');
    const first = web.issueServer({ ips: ['127.0.0.1'] });
    await writeFile(certPath, first.certPem);
    await writeFile(keyPath, first.keyPem);
    const warnings: object[] = [];
    const log = { warn: (obj: object) => void warnings.push(obj) };
    const certificate = await WebPkiCertificate.load({ certPath, keyPath }, log, { watchMs: 50 });
    let server: BundleEndpointServer | undefined;
    try {
      server = await startBundleEndpoint({
        host: '127.0.0.1',
        port: 0,
        tls: certificate,
        document: () => DOCUMENT,
      });
      const port = server.port;
      expect(await presentedSerial(port)).toBe(serialOf(first.certPem));

      const renewed = web.issueServer({ ips: ['127.0.0.1'] });
      await replace(keyPath, renewed.keyPem);
      await replace(certPath, renewed.certPem);
      await waitFor(
        'the renewed certificate presented',
        async () => (await presentedSerial(port)) === serialOf(renewed.certPem),
        10_000,
      );

      // A certificate whose key has not been written yet: refused, the renewed one stays.
      const next = web.issueServer({ ips: ['127.0.0.1'] });
      const warned = warnings.length;
      await replace(certPath, next.certPem);
      await waitFor('the mismatch noticed', () => warnings.length > warned, 10_000);
      expect(await presentedSerial(port)).toBe(serialOf(renewed.certPem));
      expect(certificate.current().cert).toBe(renewed.certPem);
      expect(JSON.stringify(warnings)).not.toContain('PRIVATE KEY');
    } finally {
      await server?.close();
      certificate.stop();
    }
  });

  it('refuses at start a pair that does not match or a file that is missing, naming the variable', async () => {
    const a = web.issueServer();
    const b = web.issueServer();
    await writeFile(path.join(dir, 'a.crt'), a.certPem);
    await writeFile(path.join(dir, 'b.key'), b.keyPem);
    const log = { warn: () => undefined };
    await expect(
      WebPkiCertificate.load(
        { certPath: path.join(dir, 'a.crt'), keyPath: path.join(dir, 'b.key') },
        log,
      ),
    ).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      variable: 'HALLMARK_FEDERATION_TLS_KEY',
    });
    await expect(
      WebPkiCertificate.load(
        { certPath: path.join(dir, 'none.crt'), keyPath: path.join(dir, 'b.key') },
        log,
      ),
    ).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      variable: 'HALLMARK_FEDERATION_TLS_CERT',
    });
  });

  it('trusts HALLMARK_FEDERATION_WEB_CA only when it holds CA certificates and nothing else', async () => {
    const roots = path.join(dir, 'roots.pem');
    const other = createWebPki('Second Test Root');
    await writeFile(roots, `${web.rootPem}\n${other.rootPem}`);
    expect(await loadWebRoots(roots)).toHaveLength(2);
    expect(await loadWebRoots(undefined)).toBeUndefined();

    const leafFile = path.join(dir, 'leaf.pem');
    await writeFile(leafFile, `${web.rootPem}\n${web.issueServer().certPem}`);
    const empty = path.join(dir, 'empty.pem');
    await writeFile(empty, 'no certificates here\n');
    for (const file of [leafFile, empty, path.join(dir, 'missing.pem')]) {
      await expect(loadWebRoots(file)).rejects.toMatchObject({
        code: 'ERR_CONFIG_INVALID',
        variable: 'HALLMARK_FEDERATION_WEB_CA',
      });
    }
  });
});
