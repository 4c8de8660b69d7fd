// Settings of JWT authority rotation: defaults, validation, and the schedule they imply.
import type { KeySchedule } from '../keyring/index.js';
import { HallmarkError } from '../errors/index.js';
import {
  DEFAULT_JWT_SVID_ALGORITHM,
  JWT_SVID_ALGORITHMS,
  isJwtSvidAlgorithm,
  type JwtSvidAlgorithm,
} from './jwt-svid-algorithm.js';

/** How JWT authorities are made and rotated (from the server configuration). */
export interface JwtAuthoritySettings {
  /** Longest JWT-SVID lifetime (`HALLMARK_JWT_SVID_TTL`, default 5 minutes), milliseconds. */
  readonly svidTtlMs: number;
  /** `alg` of new authorities (default ES256); only the JWT-SVID allowlist is accepted. */
  readonly algorithm?: string;
  /** How long one authority signs before its successor takes over (default one day). */
  readonly rotationPeriodMs?: number;
  /**
   * Leeway relying parties may grant on `exp` (default 60 s, go-jose's default leeway, which
   * most SPIFFE validators use); retired keys stay published at least this much longer.
   */
  readonly clockToleranceMs?: number;
  /**
   * How long a prepared authority is published before it may sign (default 5 min): long
   * enough for every replica to load it and for relying parties polling at the bundle's
   * refresh hint (at most 300 s) to fetch it.
   */
  readonly propagationMs?: number;
  /** `false` disables the background tick (tests drive rotation by hand). */
  readonly tick?: boolean;
}

/** Settings with every default applied. */
export interface ResolvedJwtAuthoritySettings {
  readonly svidTtlMs: number;
  readonly algorithm: JwtSvidAlgorithm;
  readonly rotationPeriodMs: number;
  readonly clockToleranceMs: number;
  readonly propagationMs: number;
  readonly tick: boolean;
}

/** Defaults besides the TTL, which always comes from the configuration. */
export const DEFAULT_JWT_AUTHORITY_SETTINGS = Object.freeze({
  algorithm: DEFAULT_JWT_SVID_ALGORITHM,
  rotationPeriodMs: 24 * 3_600_000,
  clockToleranceMs: 60_000,
  propagationMs: 300_000,
});

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new HallmarkError('ERR_CONFIG_INVALID', {
      message: `JWT authority ${name} must be a positive number of milliseconds`,
    });
  }
  return value;
}

/**
 * Applies defaults and checks the settings.
 * @throws HallmarkError ERR_CONFIG_INVALID for an algorithm outside the allowlist (`none`,
 *   HS256 and EdDSA included) or a non-positive duration.
 */
export function resolveJwtAuthoritySettings(
  settings: JwtAuthoritySettings,
): ResolvedJwtAuthoritySettings {
  const algorithm = settings.algorithm ?? DEFAULT_JWT_AUTHORITY_SETTINGS.algorithm;
  // @see SPIFFE JWT-SVID §2.1: nothing outside RS/ES/PS 256/384/512 may ever sign.
  if (!isJwtSvidAlgorithm(algorithm)) {
    throw new HallmarkError('ERR_CONFIG_INVALID', {
      message: `JWT-SVID algorithm must be one of ${JWT_SVID_ALGORITHMS.join(', ')}`,
    });
  }
  return {
    algorithm,
    svidTtlMs: positive('svidTtlMs', settings.svidTtlMs),
    rotationPeriodMs: positive(
      'rotationPeriodMs',
      settings.rotationPeriodMs ?? DEFAULT_JWT_AUTHORITY_SETTINGS.rotationPeriodMs,
    ),
    clockToleranceMs: positive(
      'clockToleranceMs',
      settings.clockToleranceMs ?? DEFAULT_JWT_AUTHORITY_SETTINGS.clockToleranceMs,
    ),
    propagationMs: positive(
      'propagationMs',
      settings.propagationMs ?? DEFAULT_JWT_AUTHORITY_SETTINGS.propagationMs,
    ),
    tick: settings.tick !== false,
  };
}

/**
 * The shared key schedule (also used by access-token signing keys) for JWT authorities: prepare at
 * half a period, activate after a full period once published for `propagationMs`, drop a
 * retired key after TTL + leeway + propagation.
 */
export function jwtAuthoritySchedule(settings: ResolvedJwtAuthoritySettings): KeySchedule {
  return {
    rotationPeriodMs: settings.rotationPeriodMs,
    tokenTtlMs: settings.svidTtlMs,
    clockToleranceMs: settings.clockToleranceMs,
    propagationMs: settings.propagationMs,
  };
}
