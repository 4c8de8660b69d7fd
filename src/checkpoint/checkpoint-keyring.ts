// The audit checkpoint keyring: the key that signs checkpoints now and every key that ever did.
import type { JSONWebKeySet, JWK } from 'jose';
import { ADVISORY_LOCKS } from '../db/index.js';
import { HallmarkError } from '../errors/index.js';
import {
  RotatingKeyring,
  SEALED_ONLY,
  rotationTickMs,
  type KeyVault,
  type KeyringKind,
  type KeySchedule,
  type RotateOptions,
  type RotatingKeyringDeps,
  type SigningKeyOf,
} from '../keyring/index.js';
import {
  CHECKPOINT_KEY_TABLE,
  generateCheckpointKey,
  type CheckpointKeyMaterial,
  type StoredCheckpointKey,
} from './checkpoint-key.js';
import { signJws } from './checkpoint-statement.js';

/** NOTIFY channel on which replicas learn that the set of checkpoint keys changed. */
export const CHECKPOINT_KEYS_CHANNEL = 'hallmark_audit_checkpoint_keys';

/** Default rotation period (`HALLMARK_AUDIT_CHECKPOINT_KEY_ROTATION`). */
export const DEFAULT_CHECKPOINT_KEY_ROTATION_MS = 30 * 86_400_000;

/** The checkpoint keys' kind; new keys come from `vault` (the token when one is configured). */
function checkpointKeyKind(
  vault: KeyVault,
): KeyringKind<CheckpointKeyMaterial, StoredCheckpointKey> {
  return {
    table: CHECKPOINT_KEY_TABLE,
    channel: CHECKPOINT_KEYS_CHANNEL,
    lock: ADVISORY_LOCKS.auditCheckpointKeyRotation,
    // No `dropped`: a checkpoint must verify as long as the audit is kept, archives included.
    // No `distrusted` yet: a distrusted key is published nowhere, which would orphan its checkpoints.
    actions: {
      bootstrapped: 'audit_checkpoint_key.activated',
      prepared: 'audit_checkpoint_key.prepared',
      activated: 'audit_checkpoint_key.activated',
    },
    logs: {
      reloadFailed: 'audit checkpoint key reload failed',
      rotated: 'audit checkpoint key rotated',
      rotationCheckFailed: 'audit checkpoint key rotation check failed',
    },
    generate: () => generateCheckpointKey(vault),
    discard: (material) => vault.discard(material.key),
  };
}

/**
 * The rotation schedule: a successor is prepared half a period ahead and published 30 s before
 * it signs; a retired key is kept for ever (an infinite retention: `expiredSlots` finds none).
 */
export function checkpointKeySchedule(rotationPeriodMs: number): KeySchedule {
  return {
    rotationPeriodMs,
    tokenTtlMs: Number.POSITIVE_INFINITY,
    clockToleranceMs: 0,
    propagationMs: 30_000,
  };
}

/** What the keyring needs. */
export type CheckpointKeyringDeps = Omit<RotatingKeyringDeps, 'onPublishedSetChange'>;

/**
 * Checkpoint keys on the shared {@link RotatingKeyring}: ES256, sealed under the master key (or
 * held by a token, through the keyring's signer), rotated every period. Every key but a
 * distrusted one is published, prepared keys included, and none is ever dropped.
 */
export class CheckpointKeyring {
  readonly #ring: RotatingKeyring<CheckpointKeyMaterial, StoredCheckpointKey>;

  private constructor(deps: CheckpointKeyringDeps, rotationPeriodMs: number) {
    const { db, master, clock, audit, log } = deps;
    const vault = deps.vault ?? SEALED_ONLY;
    this.#ring = new RotatingKeyring(
      { db, master, clock, audit, log, vault },
      checkpointKeyKind(vault),
      checkpointKeySchedule(rotationPeriodMs),
    );
  }

  /** Loads the keys (creating the first on a fresh database) and, by default, starts rotating. */
  static async start(
    deps: CheckpointKeyringDeps,
    options: { rotationPeriodMs?: number; tick?: boolean } = {},
  ): Promise<CheckpointKeyring> {
    const period = options.rotationPeriodMs ?? DEFAULT_CHECKPOINT_KEY_ROTATION_MS;
    const keyring = new CheckpointKeyring(deps, period);
    const tickMs =
      options.tick === false ? undefined : rotationTickMs(checkpointKeySchedule(period));
    await keyring.#ring.start({ tickMs });
    return keyring;
  }

  /** The key that signs now. @throws HallmarkError ERR_INTERNAL when none is loaded. */
  signingKey(): SigningKeyOf<StoredCheckpointKey> {
    const active = this.#ring.signingKey();
    if (active === undefined) {
      throw new HallmarkError('ERR_INTERNAL', { detail: 'no active audit checkpoint key loaded' });
    }
    return active;
  }

  /** The published keys (`GET /v1/audit/keys`): every stored key but a distrusted one. */
  jwks(): JSONWebKeySet {
    const keys: JWK[] = this.#ring
      .keys()
      .filter((key) => key.status !== 'distrusted')
      .map((key) => ({ ...key.publicJwk }));
    return { keys };
  }

  /**
   * A detached compact JWS (RFC 7515 Appendix F: `header..signature`) over `payload`, ES256
   * with the active checkpoint key: for documents that must be verifiable with the same
   * published keys as the checkpoints (signed compliance reports).
   */
  signDetached(payload: Buffer): Promise<string> {
    const key = this.signingKey();
    return signJws(key.signer, { kid: key.kid }, payload, true);
  }

  /** Applies whatever rotation step is due (`force`: a successor now). */
  rotate(options: RotateOptions): Promise<boolean> {
    return this.#ring.rotate(options);
  }

  /** Re-reads the keys from PostgreSQL. */
  reload(): Promise<void> {
    return this.#ring.reload();
  }

  /** Stops the ticker and the NOTIFY subscription. */
  stop(): void {
    this.#ring.stop();
  }
}
