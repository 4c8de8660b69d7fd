// The CA service: the rotating keyring of X.509 CAs, with the signing CA and the published bundle.
import type { X509Certificate } from 'node:crypto';
import type { AuditLog } from '../audit/index.js';
import type { Clock } from '../clock/index.js';
import type { MasterKey } from '../crypto/index.js';
import type { Database } from '../db/index.js';
import { HallmarkError } from '../errors/index.js';
import {
  RotatingKeyring,
  SEALED_ONLY,
  signerOf,
  type ChangeRequest,
  type KeyVault,
} from '../keyring/index.js';
import { prepareAuthority, type PreparedAuthority } from '../x509/index.js';
import type { CaMaterial } from './ca-material.js';
import { CA_ROTATION_POLICY, caKeyringKind, caSlotOf, type CaSettings } from './ca-keyring-kind.js';
import { readBundleSequence, type StoredCa } from './ca-store.js';
import { publishedSlots, rotationTickMs, type CaSlot } from './rotation-schedule.js';

export { CA_CHANNEL } from './ca-store.js';
export type { CaSettings } from './ca-keyring-kind.js';

/** The trust bundle as published: every unexpired, trusted CA (or the upstream roots). */
export interface TrustBundle {
  /** PEM certificates of the trust anchors. */
  readonly certificatesPem: readonly string[];
  readonly sequence: number;
  /** Seconds clients should wait before fetching the bundle again. */
  readonly refreshHintSeconds: number;
}

/** Dependencies of the CA. */
export interface CaDeps {
  db: Database;
  master: MasterKey;
  /** Where new CA keys are generated; default: sealed in PostgreSQL. */
  vault?: KeyVault;
  clock: Clock;
  audit: AuditLog;
  log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
}

/** A CA as operators see it (no key material). */
export interface CaInfo {
  readonly id: number;
  readonly status: CaSlot['status'];
  readonly notBefore: number;
  readonly notAfter: number;
  readonly certificatePem: string;
  /** When an operator distrusted it. */
  readonly distrustedAt: number | undefined;
}

/** A distrusted CA, as login checks the SVIDs it is shown against it. */
export interface DistrustedCa {
  readonly id: number;
  readonly certificate: X509Certificate;
}

/** What {@link CertificateAuthority.distrust} did. */
export interface CaDistrustResult {
  /** False when the CA was distrusted already (nothing changed). */
  readonly changed: boolean;
  readonly activeCa: number;
  readonly sequence: number;
}

/**
 * The X.509 CAs on the shared {@link RotatingKeyring}: exactly one replica changes them at a
 * time (advisory lock); the others reload on NOTIFY and on every tick, so all replicas sign
 * with the same active CA and publish the same bundle. Distrust is the keyring's too.
 */
export class CertificateAuthority {
  readonly #ring: RotatingKeyring<CaMaterial, StoredCa>;
  /** The active CA, parsed once: issuance is the hot path and must not re-parse it. */
  #active: { id: number; authority: PreparedAuthority } | undefined;
  #stored: readonly StoredCa[] = [];
  /** The last {@link bundle}, for the CAs it was made of, until its first anchor expires. */
  #bundle: { stored: readonly StoredCa[]; validUntil: number; bundle: TrustBundle } | undefined;
  #distrusted: readonly DistrustedCa[] = [];
  #sequence = 0;

  private constructor(
    private readonly deps: CaDeps,
    private readonly settings: CaSettings,
  ) {
    this.#ring = new RotatingKeyring(
      deps,
      caKeyringKind(deps.master, settings, deps.clock, deps.vault ?? SEALED_ONLY),
      CA_ROTATION_POLICY,
      (stored) => this.#index(stored),
    );
  }

  /**
   * Loads (bootstrapping on first start) the CA and starts the rotation ticker. The first step
   * waits for the lock, so a replica starting beside another never signs with nothing: it
   * blocks until the other has bootstrapped, then loads that CA.
   */
  static async start(
    deps: CaDeps,
    settings: CaSettings,
    options: { tick?: boolean } = {},
  ): Promise<CertificateAuthority> {
    const ca = new CertificateAuthority(deps, settings);
    const tickMs = options.tick === false ? undefined : rotationTickMs(settings.ttlSeconds);
    await ca.#ring.start({ tickMs });
    return ca;
  }

  /** The CA that signs now (its database id is recorded with every certificate it signs). */
  signingAuthority(): { id: number; authority: PreparedAuthority } {
    if (!this.#active)
      throw new HallmarkError('ERR_CA_UNAVAILABLE', { detail: 'no active CA loaded' });
    return this.#active;
  }

  /** The published trust bundle. */
  bundle(): TrustBundle {
    const now = this.deps.clock.now();
    const kept = this.#bundle;
    // Every SVID answer and every login reads the bundle: it is rebuilt only when the CAs
    // changed or the first of its anchors expired.
    if (kept !== undefined && kept.stored === this.#stored && now < kept.validUntil) {
      return kept.bundle;
    }
    const published = this.settings.upstream ? [] : publishedSlots(this.#cas(), now);
    const anchors = this.settings.upstream
      ? [this.settings.upstream.rootPem]
      : published.map((ca) => ca.certificatePem);
    const bundle: TrustBundle = {
      certificatesPem: anchors,
      sequence: this.#sequence,
      refreshHintSeconds: Math.max(5, Math.min(300, Math.floor(this.settings.ttlSeconds / 12))),
    };
    const validUntil = Math.min(Infinity, ...published.map((ca) => ca.notAfter));
    this.#bundle = { stored: this.#stored, validUntil, bundle };
    return bundle;
  }

  /** Every loaded CA, oldest first (for operators and tests). */
  authorities(): readonly CaInfo[] {
    return this.#cas();
  }

  /** The CAs an operator distrusted: SVIDs they signed are refused everywhere. */
  distrusted(): readonly DistrustedCa[] {
    return this.#distrusted;
  }

  /** Called after any change of the CAs or of the bundle's sequence. */
  onChange(listener: () => void): () => void {
    return this.#ring.onChange(listener);
  }

  /** Re-reads CA state from PostgreSQL. */
  reload(): Promise<void> {
    return this.#ring.reload();
  }

  /**
   * Applies whatever rotation step is due (or, with `force`, prepares and activates a new CA
   * at once). Returns true when this replica changed the CA set.
   */
  rotate(options: { wait: boolean; force?: boolean } & ChangeRequest): Promise<boolean> {
    return this.#ring.rotate(options);
  }

  /**
   * Distrusts CA `id` on every replica, in one transaction with its `ca.distrust` row: it
   * leaves the bundle at once (new spiffe_sequence), its key is wiped, and SVIDs it signed are
   * refused by login and JWT-SVID issuance. The signing CA only with `rotate`, which prepares
   * (if needed) and activates a new CA in the same transaction.
   * @throws HallmarkError ERR_CA_UNKNOWN_AUTHORITY, ERR_CA_LAST_AUTHORITY (nothing changes)
   */
  async distrust(
    options: { id: number; rotate?: boolean } & ChangeRequest,
  ): Promise<CaDistrustResult> {
    const { changed } = await this.#ring.distrust({ ...options, kid: String(options.id) });
    return {
      changed,
      activeCa: this.signingAuthority().id,
      sequence: this.#sequence,
    };
  }

  /**
   * Builds what the CA serves from the stored CAs; runs inside every reload and swaps all of
   * it at once, so the bundle never pairs one load's CAs with another's sequence.
   */
  async #index(stored: readonly StoredCa[]): Promise<string> {
    const sequence = await readBundleSequence(this.deps.db);
    let active = this.#active;
    const signing = stored.find((ca) => ca.status === 'active');
    // The X.509 engine signs through the key's signer: a sealed key here, or a token key.
    const signer = signing === undefined ? undefined : signerOf(signing);
    if (signing !== undefined && signer !== undefined && signing.id !== active?.id) {
      active = {
        id: signing.id,
        authority: prepareAuthority({
          certificatePem: signing.certificatePem,
          signer,
          chainPem: signing.chainPem,
        }),
      };
    } else if (stored.some((ca) => ca.id === active?.id && ca.status === 'distrusted')) {
      active = undefined;
    }
    this.#active = active;
    this.#stored = stored;
    this.#distrusted = stored
      .filter((ca) => ca.status === 'distrusted')
      .map((ca) => ({ id: ca.id, certificate: ca.certificate }));
    this.#sequence = sequence;
    return String(sequence);
  }

  #cas(): CaInfo[] {
    return this.#stored.map((ca) => ({
      ...caSlotOf(ca),
      certificatePem: ca.certificatePem,
      distrustedAt: ca.status === 'distrusted' ? ca.retiredAt : undefined,
    }));
  }

  stop(): void {
    this.#ring.stop();
  }
}
