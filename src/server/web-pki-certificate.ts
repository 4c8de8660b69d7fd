// The operator's Web PKI certificate for the https_web bundle endpoint (HALLMARK_FEDERATION_TLS_CERT
// and _KEY): read and checked at start, and read again whenever the files change (ACME renewals).
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { readFile, stat } from 'node:fs/promises';
import { ConfigError } from '../config/index.js';
import type { TlsMaterial } from '../http/index.js';

/** How often the files are looked at for a renewed certificate, by default. */
const WATCH_MS = 60_000;

interface Paths {
  readonly certPath: string;
  readonly keyPath: string;
}

async function read(paths: Paths): Promise<{ material: TlsMaterial; leaf: X509Certificate }> {
  let cert: string;
  let key: string;
  try {
    cert = await readFile(paths.certPath, 'utf8');
  } catch (err) {
    throw new ConfigError(
      'HALLMARK_FEDERATION_TLS_CERT',
      `cannot read ${paths.certPath} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  try {
    key = await readFile(paths.keyPath, 'utf8');
  } catch (err) {
    throw new ConfigError(
      'HALLMARK_FEDERATION_TLS_KEY',
      `cannot read ${paths.keyPath} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch {
    throw new ConfigError('HALLMARK_FEDERATION_TLS_CERT', 'is not a PEM certificate chain');
  }
  try {
    if (!leaf.checkPrivateKey(createPrivateKey(key))) throw new Error('mismatch');
    createSecureContext({ key, cert });
  } catch {
    throw new ConfigError(
      'HALLMARK_FEDERATION_TLS_KEY',
      'is not the private key of HALLMARK_FEDERATION_TLS_CERT',
    );
  }
  return { material: { key, cert, ca: [] }, leaf };
}

/** The certificate and its key, swapped in place when renewed files appear. */
export class WebPkiCertificate {
  #material: TlsMaterial;
  #stamp: string;
  #timer: NodeJS.Timeout | undefined;
  readonly #listeners = new Set<(material: TlsMaterial) => void>();

  private constructor(
    private readonly paths: Paths,
    loaded: { material: TlsMaterial; leaf: X509Certificate },
    stamp: string,
    private readonly log: { warn(obj: object, msg?: string): void },
  ) {
    this.#material = loaded.material;
    this.#stamp = stamp;
  }

  /**
   * Reads and checks both files (a certificate chain and the leaf's private key).
   * @throws ConfigError naming the variable whose file is missing or wrong.
   */
  static async load(
    paths: Paths,
    log: { warn(obj: object, msg?: string): void },
    options: { readonly watchMs?: number } = {},
  ): Promise<WebPkiCertificate> {
    const loaded = await read(paths);
    const web = new WebPkiCertificate(paths, loaded, await stampOf(paths), log);
    web.#timer = setInterval(() => void web.#check(), options.watchMs ?? WATCH_MS);
    web.#timer.unref();
    return web;
  }

  current(): TlsMaterial {
    return this.#material;
  }

  onChange(listener: (material: TlsMaterial) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }

  /** A renewal is taken only once both files form a valid pair again; until then, the old. */
  async #check(): Promise<void> {
    try {
      const stamp = await stampOf(this.paths);
      if (stamp === this.#stamp) return;
      const loaded = await read(this.paths);
      this.#stamp = stamp;
      this.#material = loaded.material;
      for (const listener of [...this.#listeners]) listener(this.#material);
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message },
        'the bundle endpoint certificate files changed but cannot be used; keeping the previous',
      );
    }
  }
}

async function stampOf(paths: Paths): Promise<string> {
  const [cert, key] = await Promise.all([stat(paths.certPath), stat(paths.keyPath)]);
  return `${cert.mtimeMs}:${cert.size}:${key.mtimeMs}:${key.size}`;
}

/**
 * `HALLMARK_FEDERATION_WEB_CA`: the extra roots trusted for peers' `https_web` endpoints, each
 * a CA certificate, besides the system's public ones.
 * @throws ConfigError naming the variable when the file is unreadable or holds anything else.
 */
export async function loadWebRoots(file: string | undefined): Promise<string[] | undefined> {
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      'HALLMARK_FEDERATION_WEB_CA',
      `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  const roots = blocks.filter((pem) => {
    try {
      return new X509Certificate(pem).ca;
    } catch {
      return false;
    }
  });
  if (roots.length === 0 || roots.length !== blocks.length) {
    throw new ConfigError('HALLMARK_FEDERATION_WEB_CA', 'must hold PEM CA certificates only');
  }
  return roots;
}
