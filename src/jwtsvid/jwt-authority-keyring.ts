// The JWT authority keyring: the key that signs JWT-SVIDs now and every key the bundle publishes.
import type { BundleJwk } from '../ca/index.js';
import { ADVISORY_LOCKS } from '../db/index.js';
import { HallmarkError } from '../errors/index.js';
import {
  RotatingKeyring,
  rotationTickMs,
  type DistrustOptions,
  type DistrustResult,
  type KeyringKind,
  type KeySchedule,
  type KeySigner,
  type KeyVault,
  type RotatingKeyringDeps,
  SEALED_ONLY,
} from '../keyring/index.js';
import { generateJwtAuthority, type JwtAuthorityMaterial } from './jwt-authority-key.js';
import {
  jwtAuthoritySchedule,
  resolveJwtAuthoritySettings,
  type JwtAuthoritySettings,
} from './jwt-authority-settings.js';
import { JWT_AUTHORITY_TABLE, type StoredJwtAuthority } from './jwt-authority-store.js';
import type { JwtSvidAlgorithm } from './jwt-svid-algorithm.js';

/** NOTIFY channel on which replicas learn that the set of JWT authorities changed. */
export const JWT_AUTHORITIES_CHANNEL = 'hallmark_jwt_authorities';

/** Longest reload interval: NOTIFY is the fast path, the tick the safety net when it is lost. */
const MAX_TICK_MS = 30_000;

function jwtAuthorityKind(
  algorithm: JwtSvidAlgorithm,
  vault: KeyVault,
): KeyringKind<JwtAuthorityMaterial, StoredJwtAuthority> {
  return {
    table: JWT_AUTHORITY_TABLE,
    channel: JWT_AUTHORITIES_CHANNEL,
    lock: ADVISORY_LOCKS.jwtKeyRotation,
    actions: {
      bootstrapped: 'jwt_authority.created',
      prepared: 'jwt_authority.prepared',
      activated: 'jwt_authority.activated',
      dropped: 'jwt_authority.dropped',
      distrusted: 'jwt_authority.distrusted',
    },
    logs: {
      reloadFailed: 'JWT authority reload failed',
      rotated: 'JWT authority rotated',
      rotationCheckFailed: 'JWT authority rotation check failed',
    },
    generate: () => generateJwtAuthority(vault, algorithm),
    discard: (material) => vault.discard(material.key),
  };
}

/**
 * What the keyring needs from the composition root. Its `onPublishedSetChange` is the place to
 * bump the bundle's `spiffe_sequence` so it moves together with the keys.
 * @see SPIFFE bundle §4.1.1
 */
export type JwtAuthorityKeyringDeps = RotatingKeyringDeps;

/** The authority JWT-SVIDs are signed with now. */
export interface ActiveJwtAuthority {
  readonly kid: string;
  readonly alg: JwtSvidAlgorithm;
  /** Signs in this process (a sealed key) or in the PKCS#11 token. */
  readonly signer: KeySigner;
}

/** An authority as operators and tests see it (no key material). */
export type JwtAuthorityInfo = Pick<
  StoredJwtAuthority,
  'kid' | 'alg' | 'status' | 'createdAt' | 'activatedAt' | 'retiredAt'
>;

/**
 * JWT authorities on the shared {@link RotatingKeyring}, following the X.509 CA's rules: a
 * successor is prepared — and so published in the bundle — well before it signs, and a retired
 * key stays published until every JWT-SVID it signed has expired.
 */
export class JwtAuthorityKeyring {
  readonly #ring: RotatingKeyring<JwtAuthorityMaterial, StoredJwtAuthority>;

  private constructor(
    ring: RotatingKeyring<JwtAuthorityMaterial, StoredJwtAuthority>,
    /** The generic key rotation rules, shared with access tokens. */
    readonly schedule: KeySchedule,
  ) {
    this.#ring = ring;
  }

  /**
   * Loads the authorities (creating the first on a fresh database) and starts the rotation
   * ticker. The first step waits for the lock, so replicas starting together create one key.
   * @throws HallmarkError ERR_CONFIG_INVALID for an algorithm outside the JWT-SVID allowlist.
   */
  static async start(
    deps: JwtAuthorityKeyringDeps,
    settings: JwtAuthoritySettings,
  ): Promise<JwtAuthorityKeyring> {
    const resolved = resolveJwtAuthoritySettings(settings);
    const schedule = jwtAuthoritySchedule(resolved);
    const kind = jwtAuthorityKind(resolved.algorithm, deps.vault ?? SEALED_ONLY);
    const ring = new RotatingKeyring(deps, kind, schedule);
    const tickMs = resolved.tick ? Math.min(MAX_TICK_MS, rotationTickMs(schedule)) : undefined;
    await ring.start({ tickMs });
    return new JwtAuthorityKeyring(ring, schedule);
  }

  /** The authority to sign with. @throws HallmarkError ERR_JWTSVID_AUTHORITY_UNAVAILABLE */
  signingAuthority(): ActiveJwtAuthority {
    const active = this.#ring.signingKey();
    if (active === undefined) {
      throw new HallmarkError('ERR_JWTSVID_AUTHORITY_UNAVAILABLE', {
        detail: 'no active JWT authority loaded',
      });
    }
    return { kid: active.kid, alg: active.alg, signer: active.signer };
  }

  /**
   * The `jwt-svid` entries of the SPIFFE bundle: every stored authority — prepared (so relying
   * parties have it before its first JWT-SVID), active, and retired until dropped (so they keep
   * it until its last JWT-SVID has expired) — but never a distrusted one. @see SPIFFE JWT-SVID §6.1
   */
  bundleJwks(): BundleJwk[] {
    return this.#ring
      .keys()
      .filter((authority) => authority.status !== 'distrusted')
      .map((authority) => ({ ...authority.bundleJwk }));
  }

  /**
   * The published authorities (exactly {@link bundleJwks}) with the algorithm each signs with,
   * for the OIDC key set, whose JWKs name their `alg`.
   */
  publishedKeys(): { alg: JwtSvidAlgorithm; jwk: BundleJwk }[] {
    const algorithms = new Map(this.#ring.keys().map((key) => [key.kid, key.alg]));
    return this.bundleJwks().flatMap((jwk) => {
      const alg = jwk.kid === undefined ? undefined : algorithms.get(jwk.kid);
      return alg === undefined ? [] : [{ alg, jwk }];
    });
  }

  /** Every loaded authority, oldest first (for operators and tests). */
  authorities(): JwtAuthorityInfo[] {
    return this.#ring.keys().map(({ kid, alg, status, createdAt, activatedAt, retiredAt }) => ({
      kid,
      alg,
      status,
      createdAt,
      activatedAt,
      retiredAt,
    }));
  }

  /** Calls `listener` after a reload that changed the authorities (published set or active key). */
  onChange(listener: () => void): () => void {
    return this.#ring.onChange(listener);
  }

  /** Re-reads the authorities from PostgreSQL; calls are serialised so the last one wins. */
  reload(): Promise<void> {
    return this.#ring.reload();
  }

  /**
   * Applies whatever rotation step is due. Returns true when this replica changed the set.
   * `wait: false` skips the round when another replica holds the lock.
   */
  rotate(options: { wait: boolean; actor: string; requestId?: string }): Promise<boolean> {
    return this.#ring.rotate(options);
  }

  /**
   * Distrusts the authority `kid` (it leaves the bundle at once, with a new `spiffe_sequence`);
   * the signing one only with `rotate`. @see RotatingKeyring.distrust
   */
  distrust(options: DistrustOptions): Promise<DistrustResult> {
    return this.#ring.distrust(options);
  }

  /** Stops the ticker and the NOTIFY subscription (the database stays open). */
  stop(): void {
    this.#ring.stop();
  }
}
