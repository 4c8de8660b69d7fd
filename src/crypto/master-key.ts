// The master key: wraps every data key and CA/signing private key stored in PostgreSQL.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HallmarkError } from '../errors/index.js';
import { AEAD_KEY_BYTES, open, seal } from './aead.js';

/** Where a master key comes from (mirrors the server configuration). */
export type MasterKeyInput =
  | { kind: 'inline'; key: Buffer }
  | { kind: 'file'; path: string }
  | { kind: 'generated'; path: string };

/** Seals and opens small blobs (keys) under the master key; the key itself never leaves. */
export class MasterKey {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== AEAD_KEY_BYTES) throw new HallmarkError('ERR_CRYPTO_BAD_KEY');
    this.#key = Buffer.from(key);
  }

  seal(plaintext: Buffer, aad: string): Buffer {
    return seal(this.#key, plaintext, aad);
  }

  open(sealed: Buffer, aad: string): Buffer {
    return open(this.#key, sealed, aad);
  }

  /** Keeps the key out of logs and `util.inspect`. */
  toJSON(): string {
    return '[MasterKey]';
  }
}

function decodeKeyFile(text: string, file: string): MasterKey {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== AEAD_KEY_BYTES) {
    throw new HallmarkError('ERR_CRYPTO_BAD_KEY', {
      detail: `${file} does not hold 32 base64 bytes`,
    });
  }
  return new MasterKey(key);
}

/**
 * Loads the master key. In embedded mode (no key configured) it is generated once into the
 * data directory with mode 0600; `wx` makes two servers starting at once agree on one key.
 */
export async function loadMasterKey(input: MasterKeyInput): Promise<MasterKey> {
  if (input.kind === 'inline') return new MasterKey(input.key);
  if (input.kind === 'file') return decodeKeyFile(await readFile(input.path, 'utf8'), input.path);
  await mkdir(path.dirname(input.path), { recursive: true, mode: 0o700 });
  try {
    await writeFile(input.path, `${randomBytes(AEAD_KEY_BYTES).toString('base64')}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return decodeKeyFile(await readFile(input.path, 'utf8'), input.path);
}
