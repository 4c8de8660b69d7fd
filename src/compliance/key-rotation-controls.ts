// Key rotation controls: the CA's cryptoperiod and schedule, and the rotation of every signing keyring.
import {
  describeSeconds,
  fail,
  isoTime,
  pass,
  type Control,
  type ControlVerdict,
  type Evidence,
} from './control.js';
import type { KeyringFacts } from './installation-snapshot.js';

/** Longest CA lifetime accepted: NIST SP 800-57 Part 1 Rev. 5 §5.3.6 puts a CA signing key's cryptoperiod at 1-3 years; Hallmark's CAs are online keys, so the short end. */
export const MAX_CA_TTL_SECONDS = 365 * 86_400;

/** Longest rotation period accepted for the online signing keys (access tokens, JWT-SVIDs, checkpoints). */
export const MAX_SIGNING_KEY_PERIOD_MS = 30 * 86_400_000;

/** Two rotation ticks: a step due for longer than that has not been taken by any replica. */
function overdueAfter(tickMs: number): number {
  return 2 * tickMs + 60_000;
}

const caRotation: Control = {
  id: 'HM-KEY-04',
  area: 'key-management',
  title: 'CA cryptoperiod within limits and rotation on schedule',
  checks: `HALLMARK_CA_TTL (the CA key's cryptoperiod) is at most ${describeSeconds(MAX_CA_TTL_SECONDS)}; there is an active CA that has not expired; and rotation keeps to its schedule: the successor is prepared once half of the active CA's lifetime has passed and takes over when one sixth remains, each within two rotation ticks.`,
  references: {
    pciDss: ['3.6.1', '3.7.4'],
    soc2: ['CC6.1'],
    nist80053: ['SC-12', 'SC-17'],
  },
  remediation:
    'Set HALLMARK_CA_TTL to 365d or less (30d by default). If rotation is overdue, check the server log for "CA rotation check failed" and the database, then run hallmark ca rotate --now.',
  evaluate({ ca, now }) {
    const active = ca.authorities.find((a) => a.status === 'active');
    const prepared = ca.authorities.find((a) => a.status === 'prepared');
    const evidence: Evidence = {
      caTtl: describeSeconds(ca.ttlSeconds),
      limit: describeSeconds(MAX_CA_TTL_SECONDS),
      active:
        active === undefined
          ? null
          : {
              id: active.id,
              notBefore: isoTime(active.notBefore),
              notAfter: isoTime(active.notAfter),
            },
      prepared:
        prepared === undefined ? null : { id: prepared.id, notBefore: isoTime(prepared.notBefore) },
    };
    if (ca.ttlSeconds > MAX_CA_TTL_SECONDS) {
      return fail(
        `HALLMARK_CA_TTL is ${describeSeconds(ca.ttlSeconds)}, above the ${describeSeconds(MAX_CA_TTL_SECONDS)} limit`,
        evidence,
      );
    }
    if (active === undefined) return fail('no CA is active', evidence);
    if (active.notAfter <= now)
      return fail(`the active CA ${active.id} expired at ${isoTime(active.notAfter)}`, evidence);
    const lifetime = active.notAfter - active.notBefore;
    const grace = overdueAfter(ca.tickMs);
    const prepareAt = active.notBefore + lifetime / 2;
    const activateAt = active.notAfter - lifetime / 6;
    if (prepared === undefined && now > prepareAt + grace) {
      return fail(
        `no successor CA was prepared although it was due at ${isoTime(prepareAt)}`,
        evidence,
      );
    }
    if (prepared !== undefined && now > activateAt + grace) {
      return fail(
        `CA ${prepared.id} should have replaced the active CA ${active.id} at ${isoTime(activateAt)}`,
        evidence,
      );
    }
    return pass(
      `the active CA ${active.id} is on schedule (successor due by ${isoTime(prepared ? activateAt : prepareAt)})`,
      evidence,
    );
  },
};

/** The rotation verdict of a keyring: active key present, period within limit, no step overdue. */
export function keyringRotation(name: string, keys: KeyringFacts, now: number): ControlVerdict {
  const active = keys.slots.find((slot) => slot.status === 'active');
  const since = active === undefined ? undefined : (active.activatedAt ?? active.createdAt);
  const period = keys.schedule.rotationPeriodMs;
  const evidence: Evidence = {
    rotationPeriod: describeSeconds(period / 1000),
    limit: describeSeconds(MAX_SIGNING_KEY_PERIOD_MS / 1000),
    activeKid: active?.kid ?? null,
    activatedAt: since === undefined ? null : isoTime(since),
    keys: keys.slots.map((slot) => `${slot.kid}:${slot.status}`),
  };
  if (period > MAX_SIGNING_KEY_PERIOD_MS) {
    return fail(
      `the ${name} rotate every ${describeSeconds(period / 1000)}, above the limit`,
      evidence,
    );
  }
  if (active === undefined || since === undefined)
    return fail(`no ${name} key is active`, evidence);
  // The successor activates once the period is over and it has been published for the
  // propagation time; later than that plus two ticks, no replica is rotating.
  const deadline = since + period + keys.schedule.propagationMs + overdueAfter(keys.tickMs);
  if (now > deadline) {
    return fail(
      `the active ${name} key ${active.kid} has signed since ${isoTime(since)}, ${describeSeconds(Math.round((now - since) / 1000))} against a rotation period of ${describeSeconds(period / 1000)}`,
      evidence,
    );
  }
  return pass(
    `the active ${name} key ${active.kid} was activated ${describeSeconds(Math.round((now - since) / 1000))} ago, within its period`,
    evidence,
  );
}

const keyringReferences = {
  pciDss: ['3.6.1', '3.7.4'],
  soc2: ['CC6.1'],
  nist80053: ['SC-12', 'SC-13'],
};

const accessTokenKeyRotation: Control = {
  id: 'HM-KEY-05',
  area: 'key-management',
  title: 'Access-token signing keys rotated within their period',
  checks:
    'The access-token signing key in use was activated no longer ago than the rotation period (24 h) plus the propagation time and two rotation ticks, and the period is at most 30 days.',
  references: keyringReferences,
  remediation:
    'Rotation runs on every replica: check the server log for "signing key rotation check failed", the database connection, and the server clock.',
  evaluate: ({ accessTokenKeys, now }) =>
    keyringRotation('access-token signing', accessTokenKeys, now),
};

const jwtAuthorityRotation: Control = {
  id: 'HM-KEY-06',
  area: 'key-management',
  title: 'JWT-SVID authorities rotated within their period',
  checks:
    'The JWT authority signing JWT-SVIDs was activated no longer ago than its rotation period (24 h) plus the propagation time and two rotation ticks, and the period is at most 30 days.',
  references: keyringReferences,
  remediation:
    'Rotation runs on every replica: check the server log for the JWT authority rotation failures, the database connection, and the server clock.',
  evaluate: ({ jwtAuthorities, now }) => keyringRotation('JWT-SVID authority', jwtAuthorities, now),
};

const checkpointKeyRotation: Control = {
  id: 'HM-KEY-07',
  area: 'key-management',
  title: 'Audit checkpoint keys rotated within their period',
  checks:
    'The audit checkpoint key (which signs audit checkpoints and compliance reports) was activated no longer ago than its rotation period plus the propagation time and two rotation ticks, and the period is at most 30 days.',
  references: keyringReferences,
  remediation:
    'Keep HALLMARK_AUDIT_CHECKPOINT_KEY_ROTATION at 30d or less; if rotation is overdue, check the server log for "audit checkpoint key rotation check failed", the database connection, and the server clock.',
  evaluate({ checkpointKeys, now }) {
    if (checkpointKeys === undefined) {
      return fail(
        'this server has no audit checkpoint key: audit checkpoints and reports are not signed',
        { checkpointKey: null },
      );
    }
    return keyringRotation('audit checkpoint', checkpointKeys, now);
  },
};

/** The rotation controls, in id order (HM-KEY-04 to HM-KEY-07). */
export const KEY_ROTATION_CONTROLS: readonly Control[] = [
  caRotation,
  accessTokenKeyRotation,
  jwtAuthorityRotation,
  checkpointKeyRotation,
];
