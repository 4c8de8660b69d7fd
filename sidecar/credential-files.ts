// The output directory: the four credential files apps read, written atomically with fixed modes.
import { mkdir, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { HallmarkError } from '../src/errors/index.js';
import { removeFileDurably, writeFileAtomic, writeFilesAtomic } from '../src/file/index.js';

/** File names in the output directory (DESIGN "Sidecar"). */
export const CREDENTIAL_FILE_NAMES = Object.freeze({
  svid: 'svid.pem',
  key: 'svid-key.pem',
  bundle: 'bundle.pem',
  token: 'access-token',
});

/**
 * Modes: the key is the sidecar's alone (0600); the token is readable by the pod's group
 * (0640, the app container shares it through fsGroup); certificates are public.
 */
export const CREDENTIAL_FILE_MODES = Object.freeze({
  svid: 0o644,
  key: 0o600,
  bundle: 0o644,
  token: 0o640,
});

/** An SVID as written to disk. */
export interface SvidFiles {
  /** Leaf first, then intermediates. */
  readonly chainPem: string;
  /** PKCS#8 PEM private key. */
  readonly keyPem: string;
  /** Trust bundle of the SVID's trust domain. */
  readonly bundlePem: string;
}

/** Where credentials go: the real directory, or an in-memory store in unit tests. */
export interface CredentialStore {
  writeSvid(files: SvidFiles): Promise<void>;
  writeToken(token: string): Promise<void>;
  removeToken(): Promise<void>;
  /** The last `bundle.pem` written, or `undefined` if there is none. */
  readBundle(): Promise<string | undefined>;
  /**
   * Writes `federated/<trust domain>.pem` for each foreign trust domain (its CA certificates)
   * and removes the files of any other; optional for stores that keep no files.
   */
  writeFederatedBundles?(pems: ReadonlyMap<string, string>): Promise<void>;
}

/** The directory of the federated bundles, inside the output directory. */
export const FEDERATED_DIR = 'federated';

function outputFailed(err: unknown, what: string): HallmarkError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  return new HallmarkError('ERR_SIDECAR_OUTPUT_FAILED', { detail: `${what}: ${code}`, cause: err });
}

/** The real output directory (an `emptyDir` with `medium: Memory` in Kubernetes). */
export class CredentialDirectory implements CredentialStore {
  constructor(readonly dir: string) {}

  /** Full path of one of the {@link CREDENTIAL_FILE_NAMES}. */
  pathOf(file: keyof typeof CREDENTIAL_FILE_NAMES): string {
    return path.join(this.dir, CREDENTIAL_FILE_NAMES[file]);
  }

  /** Creates the directory when missing (an existing one keeps its owner and mode). */
  async prepare(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o755 });
    } catch (err) {
      throw outputFailed(err, `create ${this.dir}`);
    }
  }

  /**
   * Writes the key before the certificate in one batch, so the window in which a reader
   * could pair a new certificate with an old key is a few microseconds between two renames.
   */
  async writeSvid(files: SvidFiles): Promise<void> {
    try {
      await writeFilesAtomic([
        { path: this.pathOf('key'), content: files.keyPem, mode: CREDENTIAL_FILE_MODES.key },
        { path: this.pathOf('svid'), content: files.chainPem, mode: CREDENTIAL_FILE_MODES.svid },
        {
          path: this.pathOf('bundle'),
          content: files.bundlePem,
          mode: CREDENTIAL_FILE_MODES.bundle,
        },
      ]);
    } catch (err) {
      throw outputFailed(err, 'write SVID files');
    }
  }

  async writeToken(token: string): Promise<void> {
    try {
      await writeFileAtomic({
        path: this.pathOf('token'),
        content: token,
        mode: CREDENTIAL_FILE_MODES.token,
      });
    } catch (err) {
      throw outputFailed(err, 'write access-token');
    }
  }

  async removeToken(): Promise<void> {
    try {
      await removeFileDurably(this.pathOf('token'));
    } catch (err) {
      throw outputFailed(err, 'remove access-token');
    }
  }

  async writeFederatedBundles(pems: ReadonlyMap<string, string>): Promise<void> {
    const dir = path.join(this.dir, FEDERATED_DIR);
    try {
      await mkdir(dir, { recursive: true, mode: 0o755 });
      await writeFilesAtomic(
        [...pems].map(([trustDomain, pem]) => ({
          path: path.join(dir, `${trustDomain}.pem`),
          content: pem,
          mode: CREDENTIAL_FILE_MODES.bundle,
        })),
      );
      // A trust domain no longer federated with must not stay trusted through a stale file.
      for (const name of await readdir(dir)) {
        if (name.endsWith('.pem') && !pems.has(name.slice(0, -4))) {
          await removeFileDurably(path.join(dir, name));
        }
      }
    } catch (err) {
      throw outputFailed(err, `write ${FEDERATED_DIR}/`);
    }
  }

  async readBundle(): Promise<string | undefined> {
    try {
      return await readFile(this.pathOf('bundle'), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw outputFailed(err, 'read bundle.pem');
    }
  }
}
