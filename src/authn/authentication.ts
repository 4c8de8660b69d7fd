// The authentication service: keys, revocations and pod checks wired together, one per server.
import type { TLSSocket } from 'node:tls';
import type { AuditLog } from '../audit/index.js';
import type { Clock } from '../clock/index.js';
import type { MasterKey } from '../crypto/index.js';
import type { Database, Queryable } from '../db/index.js';
import type { VerifiedX509Svid } from '../x509/index.js';
import { AccessTokenIssuer, type IssuedAccessToken } from './access-token-issuer.js';
import { AccessTokenVerifier } from './access-token-verifier.js';
import {
  createApiKey,
  revokeApiKey,
  rotateApiKey,
  verifyApiKey,
  type ApiKeyHolder,
  type ApiKeyRole,
} from './api-key-store.js';
import { verifiedClientSvid } from './client-certificate.js';
import type { DistrustedIssuers } from './distrusted-issuers.js';
import {
  cachedIssuedCertificates,
  pgIssuedCertificates,
  type IssuedCertificateLookup,
} from './issued-certificates.js';
import { PodPresenceCache, type PodLookup } from './pod-presence.js';
import { RevocationList, type Revocation } from './revocation-list.js';
import { rotationTickMs, type KeySchedule, type KeyVault } from '../keyring/index.js';
import { SigningKeyring } from './signing-keyring.js';
import { SvidValidationCache } from './svid-validation-cache.js';
import {
  checkWorkload,
  loginWorkload,
  type RegisteredWorkload,
  type RegistrationCheck,
  type WorkloadLoginDeps,
} from './workload-login.js';

/**
 * The access-token signing keys' defaults on the shared key schedule (src/keyring): rotate
 * daily, 8-minute tokens (`HALLMARK_TOKEN_TTL`), 5 s skew, replicas reload every 30 s.
 */
export const DEFAULT_SIGNING_KEY_SCHEDULE: KeySchedule = Object.freeze({
  rotationPeriodMs: 24 * 3_600_000,
  tokenTtlMs: 8 * 60_000,
  clockToleranceMs: 5_000,
  propagationMs: 30_000,
});

/** What authentication needs from the composition root. */
export interface AuthenticationDeps {
  readonly db: Database;
  readonly master: MasterKey;
  /** Where new signing keys are generated; default: sealed in PostgreSQL. */
  readonly vault?: KeyVault;
  readonly clock: Clock;
  readonly audit: AuditLog;
  readonly log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  /** `GET pod` (attestation's Kubernetes client through {@link kubernetesPodLookup}). */
  readonly pods: PodLookup;
  /** Policy's `isStillRegistered` over the current policy. */
  readonly registrationCheck: RegistrationCheck;
  /** PEM trust anchors of the current SPIFFE bundle. */
  readonly bundle: () => readonly string[];
  /** The CAs an operator distrusted (the CA's `distrusted()`); none when absent. */
  readonly distrusted?: DistrustedIssuers;
}

/** Settings, from the server configuration. */
export interface AuthenticationSettings {
  /** `iss` of access tokens: the server's public URL. */
  readonly issuer: string;
  readonly trustDomain: string;
  /** `HALLMARK_TOKEN_TTL` in milliseconds (default 8 minutes). */
  readonly tokenTtlMs: number;
  /** How long a signing key signs (default one day). */
  readonly rotationPeriodMs?: number;
  /** Skew tolerated on `exp`/`nbf` (default 5 s). */
  readonly clockToleranceMs?: number;
  /** Reuse of a pod verdict: the delay before a deleted pod's tokens fail (default 5 s). */
  readonly podCacheMs?: number;
  /** Reload tick of keys and revocations when NOTIFY is lost (default 30 s). */
  readonly reloadIntervalMs?: number;
  /** `false` disables the background ticks (tests drive rotation by hand). */
  readonly tick?: boolean;
}

/**
 * Owns access tokens for one server process: the signing keyring, the revocation list, the
 * pod verdict cache, and the token issuer and verifier. Several processes on one database behave as one (advisory locks, NOTIFY).
 */
export class Authentication {
  /** Access token → caller, for every protected route (the HTTP layer reads the token). */
  readonly verifier: AccessTokenVerifier;
  readonly issuer: AccessTokenIssuer;
  readonly podPresence: PodPresenceCache;
  readonly #svidCache = new SvidValidationCache();
  readonly #issued: IssuedCertificateLookup;

  private constructor(
    private readonly deps: AuthenticationDeps,
    private readonly settings: AuthenticationSettings,
    readonly keyring: SigningKeyring,
    readonly revocations: RevocationList,
  ) {
    this.#issued = cachedIssuedCertificates(pgIssuedCertificates(deps.db));
    this.podPresence = new PodPresenceCache(deps.pods, deps.clock, {
      ttlMs: settings.podCacheMs ?? 5_000,
    });
    this.issuer = new AccessTokenIssuer(keyring, deps.clock, {
      issuer: settings.issuer,
      ttlMs: settings.tokenTtlMs,
    });
    this.verifier = new AccessTokenVerifier(keyring, revocations, this.podPresence, deps.clock, {
      issuer: settings.issuer,
      clockToleranceMs: settings.clockToleranceMs ?? DEFAULT_SIGNING_KEY_SCHEDULE.clockToleranceMs,
    });
  }

  /** Loads (on a fresh database: creates) the signing keys and the revocation list. */
  static async start(
    deps: AuthenticationDeps,
    settings: AuthenticationSettings,
  ): Promise<Authentication> {
    const schedule: KeySchedule = {
      rotationPeriodMs: settings.rotationPeriodMs ?? DEFAULT_SIGNING_KEY_SCHEDULE.rotationPeriodMs,
      tokenTtlMs: settings.tokenTtlMs,
      clockToleranceMs: settings.clockToleranceMs ?? DEFAULT_SIGNING_KEY_SCHEDULE.clockToleranceMs,
      propagationMs: settings.reloadIntervalMs ?? DEFAULT_SIGNING_KEY_SCHEDULE.propagationMs,
    };
    const tick = settings.tick !== false;
    const keyring = await SigningKeyring.start(deps, schedule, { tick });
    try {
      const revocations = await RevocationList.start(deps, {
        retentionMs: schedule.tokenTtlMs + schedule.clockToleranceMs,
        tickMs: tick ? rotationTickMs(schedule) : 0,
      });
      return new Authentication(deps, settings, keyring, revocations);
    } catch (err) {
      keyring.stop();
      throw err;
    }
  }

  /**
   * First half of mTLS login: the client certificate, checked as an X509-SVID of this trust
   * domain that chains to the current bundle.
   * @throws HallmarkError ERR_AUTHN_CLIENT_CERT_REQUIRED, ERR_AUTHN_CA_DISTRUSTED,
   *   ERR_AUTHN_CLIENT_CERT_INVALID
   */
  clientSvid(socket: TLSSocket): VerifiedX509Svid {
    return verifiedClientSvid(socket, {
      bundle: this.deps.bundle,
      trustDomain: this.settings.trustDomain,
      clock: this.deps.clock,
      cache: this.#svidCache,
      distrusted: this.deps.distrusted,
    });
  }

  /**
   * Second half of mTLS login: the issuance record, pod and registration checks, then a token.
   * @throws HallmarkError ERR_AUTHN_CLIENT_CERT_INVALID, ERR_AUTHN_POD_GONE,
   *   ERR_AUTHN_WORKLOAD_NOT_REGISTERED
   */
  loginWorkload(svid: VerifiedX509Svid): Promise<IssuedAccessToken> {
    return loginWorkload({ ...this.#workloadChecks(), tokens: this.issuer }, svid);
  }

  /**
   * Login's workload re-checks without issuing a token (issued here, pod still live, still
   * registered), for other routes that accept a client SVID; returns the workload re-checked.
   * @throws HallmarkError ERR_AUTHN_CLIENT_CERT_INVALID, ERR_AUTHN_POD_GONE, ERR_AUTHN_WORKLOAD_NOT_REGISTERED
   */
  async checkWorkload(svid: VerifiedX509Svid): Promise<RegisteredWorkload> {
    return (await checkWorkload(this.#workloadChecks(), svid)).workload;
  }

  #workloadChecks(): Omit<WorkloadLoginDeps, 'tokens'> {
    return {
      certificates: this.#issued,
      pods: this.podPresence,
      registrationCheck: this.deps.registrationCheck,
      distrusted: this.deps.distrusted,
    };
  }

  /**
   * Login with an API key.
   * @throws HallmarkError ERR_AUTHN_API_KEY_INVALID
   */
  async loginApiKey(
    id: string,
    key: string,
  ): Promise<{ holder: ApiKeyHolder; token: IssuedAccessToken }> {
    const holder = await verifyApiKey(this.deps.db, id, key);
    const token = await this.issuer.issue({ identity: holder.identity, role: holder.role });
    return { holder, token };
  }

  /**
   * Creates an API-key identity (`key:<id>`); returns the key, stored only as a hash. Its
   * `authn.api_key.created` audit row commits with it.
   */
  createApiKey(input: { id: string; role: ApiKeyRole }, actor = 'system'): Promise<string> {
    return this.deps.db.transaction((tx) => this.createApiKeyIn(tx, input, actor));
  }

  /**
   * {@link createApiKey} inside the caller's open transaction (the broker's bind): the key
   * and its `authn.api_key.created` row commit with the caller's other changes, or not at all.
   */
  async createApiKeyIn(
    tx: Queryable,
    input: { id: string; role: ApiKeyRole },
    actor: string,
  ): Promise<string> {
    const key = await createApiKey(tx, input, this.deps.clock);
    await this.deps.audit.stage(tx, {
      actor,
      action: 'authn.api_key.created',
      target: `key:${input.id} role=${input.role}`,
      outcome: 'success',
    });
    return key;
  }

  /**
   * Revokes key `id` inside the caller's open transaction (the broker's unbind), staging its
   * `authn.api_key.revoked` row there. Returns the revocation to apply to this replica once
   * the transaction has committed, or undefined when no such key exists.
   */
  async revokeApiKeyIn(tx: Queryable, id: string, actor: string): Promise<Revocation | undefined> {
    const revoked = await revokeApiKey(tx, id, actor, this.deps.clock.now());
    if (revoked !== undefined) {
      await this.deps.audit.stage(tx, {
        actor,
        action: 'authn.api_key.revoked',
        target: `key:${id}`,
        outcome: 'success',
      });
    }
    return revoked;
  }

  /**
   * Revokes an API key and every token issued to it, here at once and on every replica by NOTIFY.
   * Its `authn.api_key.revoked` audit row commits with it.
   * @returns false when no such key exists.
   */
  async revokeApiKey(id: string, actor: string): Promise<boolean> {
    const revocation = await this.deps.db.transaction((tx) => this.revokeApiKeyIn(tx, id, actor));
    if (revocation !== undefined) this.revocations.apply(revocation);
    return revocation !== undefined;
  }

  /**
   * Replaces the API key `id` with a new random key, with its `authn.api_key.rotated` audit
   * row in the same transaction; every token the old key obtained is refused from then on,
   * here at once and on every replica by NOTIFY.
   * @returns the new key (stored only as a hash) and when it was set, or `undefined` when no
   *   live key has this id.
   */
  async rotateApiKey(
    id: string,
    actor: string,
    requestId?: string,
  ): Promise<{ key: string; createdAt: number } | undefined> {
    const rotated = await this.deps.db.transaction(async (tx) => {
      const result = await rotateApiKey(tx, id, actor, this.deps.clock.now());
      if (result !== undefined) {
        await this.deps.audit.stage(tx, {
          actor,
          action: 'authn.api_key.rotated',
          target: `key:${id}`,
          outcome: 'success',
          requestId,
        });
      }
      return result;
    });
    if (rotated === undefined) return undefined;
    this.revocations.apply(rotated.revocation);
    return { key: rotated.key, createdAt: rotated.createdAt };
  }

  /** Stops background ticks and NOTIFY subscriptions (the database stays open). */
  stop(): void {
    this.revocations.stop();
    this.keyring.stop();
  }
}
