// The X.509 CA as a kind of rotating keyring: its table, lock, channel, audit names and rules.
import type { Clock } from '../clock/index.js';
import type { MasterKey } from '../crypto/index.js';
import { ADVISORY_LOCKS } from '../db/index.js';
import type { KeyringKind, RotationPolicy } from '../keyring/index.js';
import {
  createCaMaterial,
  type CaKeyType,
  type CaMaterial,
  type UpstreamAuthority,
} from './ca-material.js';
import { CA_CHANNEL, caStatusOf, caStore, publishAnchors, type StoredCa } from './ca-store.js';
import { nextRotationStep, publishedSlots, type CaSlot } from './rotation-schedule.js';

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
  };
}

/** SPIRE's lifetime-based schedule ({@link nextRotationStep}) in the keyring's terms. */
export const CA_ROTATION_POLICY: RotationPolicy<StoredCa> = {
  nextStep(stored, now) {
    const step = nextRotationStep(stored.map(caSlotOf), now);
    return step.kind === 'activate' ? { kind: 'activate', kid: String(step.id) } : step;
  },
};

/** The CA kind: rows of `ca_authorities`, new CAs self-signed or under the upstream CA. */
export function caKeyringKind(
  master: MasterKey,
  settings: CaSettings,
  clock: Clock,
): KeyringKind<CaMaterial, StoredCa> {
  return {
    store: caStore(master, settings.keyType),
    channel: CA_CHANNEL,
    lock: ADVISORY_LOCKS.caRotation,
    actions: {
      bootstrapped: 'ca.created',
      prepared: 'ca.prepared',
      activated: 'ca.activated',
      // CA rows are never dropped; `ca.distrust` is the operator's decision after a compromise.
      distrusted: 'ca.distrust',
    },
    logs: {
      reloadFailed: 'CA reload failed',
      rotated: 'certificate authority rotated',
      rotationCheckFailed: 'CA rotation check failed',
    },
    errors: { unknownKey: 'ERR_CA_UNKNOWN_AUTHORITY', lastKey: 'ERR_CA_LAST_AUTHORITY' },
    generate: async () => createCaMaterial(settings, clock),
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
