// The signing keyring: the active ES256 key and every key tokens may still be verified with.
import { importJWK, type CryptoKey, type JWK } from 'jose';
import { ADVISORY_LOCKS } from '../db/index.js';
import { HallmarkError } from '../errors/index.js';
import {
  RotatingKeyring,
  rotationTickMs,
  verificationSlots,
  type DistrustOptions,
  type DistrustResult,
  type KeyringKind,
  type KeySchedule,
  type KeySigner,
  type KeyVault,
  type RotateOptions,
  type RotatingKeyringDeps,
  SEALED_ONLY,
} from '../keyring/index.js';
import { ACCESS_TOKEN_ALG, generateSigningKey, type SigningKeyMaterial } from './signing-key.js';
import { SIGNING_KEY_TABLE, type StoredSigningKey } from './signing-key-store.js';

/** NOTIFY channel on which replicas learn that the set of signing keys changed. */
export const TOKEN_KEYS_CHANNEL = 'hallmark_token_keys';

/** An unknown kid triggers at most one reload per this interval (a flood of made-up kids cannot). */
const UNKNOWN_KID_RELOAD_MS = 1_000;

const signingKeyKind = (vault: KeyVault): KeyringKind<SigningKeyMaterial, StoredSigningKey> => ({
  table: SIGNING_KEY_TABLE,
  channel: TOKEN_KEYS_CHANNEL,
  lock: ADVISORY_LOCKS.tokenKeyRotation,
  // A bootstrap key signs at once, so it is recorded as an activation.
  actions: {
    bootstrapped: 'token_key.activated',
    prepared: 'token_key.prepared',
    activated: 'token_key.activated',
    dropped: 'token_key.dropped',
    distrusted: 'token_key.distrusted',
  },
  logs: {
    reloadFailed: 'signing key reload failed',
    rotated: 'token signing key rotated',
    rotationCheckFailed: 'token signing key rotation check failed',
  },
  generate: () => generateSigningKey(vault),
  discard: (material) => vault.discard(material.key),
});

/** What the keyring needs. */
export type SigningKeyringDeps = Omit<RotatingKeyringDeps, 'onPublishedSetChange'>;

/** The key tokens are signed with now. */
export interface ActiveSigningKey {
  readonly kid: string;
  /** Signs in this process (a sealed key) or in the PKCS#11 token. */
  readonly signer: KeySigner;
}

interface VerificationKey {
  readonly slot: StoredSigningKey;
  readonly key: CryptoKey;
}

/** Imports only the public members, and only a P-256 key, whatever the row says. */
async function importVerificationKey(jwk: JWK): Promise<CryptoKey> {
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.x || !jwk.y) {
    throw new HallmarkError('ERR_INTERNAL', { detail: `signing key ${jwk.kid} is not EC P-256` });
  }
  const key = await importJWK({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, ACCESS_TOKEN_ALG);
  return key as CryptoKey;
}

/**
 * Access-token signing keys on the shared {@link RotatingKeyring}. Besides signing, it verifies:
 * it keeps each key that may still verify imported, and reloads, rate-limited, when it meets a
 * kid it does not know — so a token signed on one replica verifies on all of them.
 */
export class SigningKeyring {
  readonly #ring: RotatingKeyring<SigningKeyMaterial, StoredSigningKey>;
  #keys = new Map<string, VerificationKey>();
  #lastUnknownKidReload = Number.NEGATIVE_INFINITY;

  private constructor(
    private readonly deps: SigningKeyringDeps,
    readonly schedule: KeySchedule,
  ) {
    // Only what the ring uses: no caller's extra property is taken for a rotation hook.
    const { db, master, vault, clock, audit, log } = deps;
    this.#ring = new RotatingKeyring(
      { db, master, vault, clock, audit, log },
      signingKeyKind(vault ?? SEALED_ONLY),
      schedule,
      (stored) => this.#index(stored),
    );
  }

  /**
   * Loads the keys (creating the first on a fresh database) and starts the rotation ticker.
   * The first step waits for the lock, so replicas starting together create exactly one key.
   */
  static async start(
    deps: SigningKeyringDeps,
    schedule: KeySchedule,
    options: { tick?: boolean } = {},
  ): Promise<SigningKeyring> {
    const keyring = new SigningKeyring(deps, schedule);
    const tickMs = options.tick === false ? undefined : rotationTickMs(schedule);
    await keyring.#ring.start({ tickMs });
    return keyring;
  }

  /** The key to sign with. @throws HallmarkError ERR_INTERNAL when none is loaded. */
  signingKey(): ActiveSigningKey {
    const active = this.#ring.signingKey();
    if (active === undefined) {
      throw new HallmarkError('ERR_INTERNAL', { detail: 'no active token signing key loaded' });
    }
    return { kid: active.kid, signer: active.signer };
  }

  /**
   * The public key for `kid` if tokens signed with it are still acceptable. An unknown kid
   * reloads the keys first (rate-limited): a replica may see a token from a key activated
   * elsewhere a moment before its NOTIFY arrives.
   */
  async verificationKey(kid: string): Promise<CryptoKey | undefined> {
    let entry = this.#keys.get(kid);
    const now = this.deps.clock.now();
    if (entry === undefined && now - this.#lastUnknownKidReload >= UNKNOWN_KID_RELOAD_MS) {
      this.#lastUnknownKidReload = now;
      await this.reload();
      entry = this.#keys.get(kid);
    }
    if (entry === undefined) return undefined;
    // A key past its retention verifies nothing even before some replica deletes its row.
    return verificationSlots([entry.slot], now, this.schedule).length === 1 ? entry.key : undefined;
  }

  /** Public JWKs of every key that may still verify (for operators and tests). */
  publicJwks(): JWK[] {
    return [...this.#keys.values()].map((entry) => ({ ...entry.slot.publicJwk }));
  }

  /** Re-reads the keys from PostgreSQL; calls are serialised so the last one always wins. */
  reload(): Promise<void> {
    return this.#ring.reload();
  }

  /** Imports keys that may still verify, once each: a reload reuses what it already has. */
  async #index(stored: readonly StoredSigningKey[]): Promise<void> {
    const keys = new Map<string, VerificationKey>();
    for (const slot of verificationSlots(stored, this.deps.clock.now(), this.schedule)) {
      const known = this.#keys.get(slot.kid);
      keys.set(slot.kid, {
        slot,
        key: known?.key ?? (await importVerificationKey(slot.publicJwk)),
      });
    }
    this.#keys = keys;
  }

  /**
   * Applies whatever rotation step is due; with `force`, prepares (if needed) and activates a
   * successor at once (operator-initiated rotation, tests). Returns true when this replica
   * changed the key set. `wait: false` skips the round when another replica holds the lock.
   */
  rotate(options: RotateOptions): Promise<boolean> {
    return this.#ring.rotate(options);
  }

  /**
   * Distrusts the key `kid`: tokens it signed stop verifying on every replica; the signing key
   * only with `rotate`. @see RotatingKeyring.distrust
   */
  distrust(options: DistrustOptions): Promise<DistrustResult> {
    return this.#ring.distrust(options);
  }

  /** Stops the ticker and the NOTIFY subscription. */
  stop(): void {
    this.#ring.stop();
  }
}
