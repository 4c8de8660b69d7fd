// An in-memory secret store with the same sealing and semantics, for unit tests of its callers.
import type { Clock } from '../../src/clock/index.js';
import type { Envelope, MasterKey } from '../../src/crypto/index.js';
import {
  DEFAULT_MAX_SECRET_BYTES,
  encodeSecretValue,
  openSecretVersion,
  sealSecretVersion,
  secretNotFound,
  validateSecretPrefix,
  type PutOptions,
  type SecretCounts,
  type SecretPath,
  type SecretStore,
  type SecretVersion,
  type SecretVersionRef,
} from '../../src/secrets/index.js';

interface StoredVersion {
  envelope: Envelope;
  createdAt: Date;
  createdBy: string;
}

/**
 * Keeps sealed versions in a map (values are sealed exactly as in PostgreSQL, so a test that
 * uses it exercises the real envelope). Writes are serialised by a promise chain, which gives
 * the same distinct, consecutive versions, and no version when its audit row fails.
 */
export class MemorySecretStore implements SecretStore {
  readonly #versions = new Map<string, StoredVersion[]>();
  readonly #master: MasterKey;
  readonly #clock: Clock;
  readonly #maxValueBytes: number;
  #writes: Promise<unknown> = Promise.resolve();

  constructor(options: { master: MasterKey; clock: Clock; maxValueBytes?: number }) {
    this.#master = options.master;
    this.#clock = options.clock;
    this.#maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_SECRET_BYTES;
  }

  async get(path: SecretPath, version?: number): Promise<SecretVersion> {
    const versions = this.#versions.get(path) ?? [];
    const number = version ?? versions.length;
    const stored = number >= 1 ? versions[number - 1] : undefined;
    if (stored === undefined) throw secretNotFound(path, version);
    return this.#open(path, number, stored);
  }

  async getMany(paths: readonly SecretPath[]): Promise<Map<string, SecretVersion>> {
    for (const path of paths) if (!this.#versions.get(path)?.length) throw secretNotFound(path);
    const opened = new Map<string, SecretVersion>();
    for (const path of paths) {
      const versions = this.#versions.get(path) as StoredVersion[];
      opened.set(path, this.#open(path, versions.length, versions.at(-1) as StoredVersion));
    }
    return opened;
  }

  put(
    path: SecretPath,
    value: string,
    actor: string,
    options: PutOptions = {},
  ): Promise<SecretVersionRef> {
    const write = this.#writes.then(async () => {
      const plaintext = encodeSecretValue(value, this.#maxValueBytes);
      try {
        const versions = this.#versions.get(path) ?? [];
        const version = versions.length + 1;
        const envelope = sealSecretVersion(this.#master, path, version, plaintext);
        // No transaction here: the row is appended first, so a failed append leaves no version.
        if (options.audit !== undefined)
          await options.audit.log.append(options.audit.event(version));
        versions.push({ envelope, createdAt: new Date(this.#clock.now()), createdBy: actor });
        this.#versions.set(path, versions);
        return { path, version };
      } finally {
        plaintext.fill(0);
      }
    });
    this.#writes = write.catch(() => undefined);
    return write;
  }

  async deletePrefix(prefix: string): Promise<SecretCounts> {
    validateSecretPrefix(prefix);
    let paths = 0;
    let versions = 0;
    for (const [path, stored] of this.#versions) {
      if (!path.startsWith(prefix)) continue;
      paths++;
      versions += stored.length;
      this.#versions.delete(path);
    }
    return { paths, versions };
  }

  async count(prefix?: string): Promise<SecretCounts> {
    if (prefix !== undefined) validateSecretPrefix(prefix);
    let paths = 0;
    let versions = 0;
    for (const [path, stored] of this.#versions) {
      if (prefix !== undefined && !path.startsWith(prefix)) continue;
      paths++;
      versions += stored.length;
    }
    return { paths, versions };
  }

  #open(path: string, version: number, stored: StoredVersion): SecretVersion {
    return {
      path,
      version,
      value: openSecretVersion(this.#master, path, version, stored.envelope),
      createdAt: stored.createdAt,
      createdBy: stored.createdBy,
    };
  }
}
