// The X.509 CA as a kind of rotating keyring: its table, lock, channel, audit names and rules.
import type { Clock } from '../clock/index.js';
import type { MasterKey } from '../crypto/index.js';
import { ADVISORY_LOCKS } from '../db/index.js';
import type { KeyringKind, KeyVault, RotationPolicy } from '../keyring/index.js';
import {
  createCaMaterial,
  type CaKeyType,
  type CaMaterial,
  type UpstreamAuthority,
} from './ca-material.js';
import { CA_CHANNEL, caStatusOf, caStore, publishAnchors, type StoredCa } from './ca-store.js';
import {
  nextRotationStep,
  publishedSlots,
  spentTokenKeys,
  type CaSlot,
} from './rotation-schedule.js';

/** Settings of the CA. */
export interface CaSettings {
  trustDomain: string;
  keyType: CaKeyType;
  ttlSeconds: number;
  upstream: UpstreamAuthority | undefined;
}

/** A stored CA as the pure CA rules see it. */
export function caSlotOf(ca: StoredCa): CaSlot {
  return {
    id: ca.id,
    status: caStatusOf(ca.status),
    notBefore: ca.notBefore,
    notAfter: ca.notAfter,
    tokenKey: ca.tokenRef !== undefined,
  };
}

/**
 * SPIRE's lifetime-based schedule ({@link nextRotationStep}) in the keyring's terms, after
 * the keyring's `drop` step, which for CAs destroys the token keys of expired old CAs
 * ({@link spentTokenKeys}; the rows stay).
 */
export const CA_ROTATION_POLICY: RotationPolicy<StoredCa> = {
  nextStep(stored, now) {
    const slots = stored.map(caSlotOf);
    const spent = spentTokenKeys(slots, now);
    if (spent.length > 0) return { kind: 'drop', kids: spent.map((slot) => String(slot.id)) };
    const step = nextRotationStep(slots, now);
    return step.kind === 'activate' ? { kind: 'activate', kid: String(step.id) } : step;
  },
};

/** The CA kind: rows of `ca_authorities`, new CAs self-signed or under the upstream CA. */
export function caKeyringKind(
  master: MasterKey,
  settings: CaSettings,
  clock: Clock,
  vault: KeyVault,
): KeyringKind<CaMaterial, StoredCa> {
  return {
    store: caStore(master, settings.keyType, vault),
    channel: CA_CHANNEL,
    lock: ADVISORY_LOCKS.caRotation,
    actions: {
      bootstrapped: 'ca.created',
      prepared: 'ca.prepared',
      activated: 'ca.activated',
      // CA rows are never dropped; "drop" destroys an expired CA's key in the token.
      dropped: 'ca.key_destroyed',
      // `ca.distrust` is the operator's decision after a compromise.
      distrusted: 'ca.distrust',
    },
    logs: {
      reloadFailed: 'CA reload failed',
      rotated: 'certificate authority rotated',
      rotationCheckFailed: 'CA rotation check failed',
    },
    errors: { unknownKey: 'ERR_CA_UNKNOWN_AUTHORITY', lastKey: 'ERR_CA_LAST_AUTHORITY' },
    generate: () => createCaMaterial(settings, clock, vault),
    discard: (material) => vault.discard(material.key),
    auditTarget: (kid) => `ca:${kid}`,
    // spiffe_sequence moves exactly when the set of published anchors changes, which includes
    // an old CA dropping out at expiry, not only rotation steps and distrust.
    reconcile: (client, stored, now) =>
      publishAnchors(
        client,
        publishedSlots(stored.map(caSlotOf), now).map((slot) => slot.id),
      ),
  };
}
