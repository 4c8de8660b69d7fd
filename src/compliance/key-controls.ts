// Key management controls: the master key's storage, CA key strength, rotation of every key, the HSM.
import path from 'node:path';
import {
  describeSeconds,
  fail,
  isoTime,
  notApplicable,
  pass,
  type Control,
  type ControlVerdict,
  type Evidence,
} from './control.js';
import type { CertificateFacts, KeyringFacts } from './installation-snapshot.js';

/** Longest CA lifetime accepted: NIST SP 800-57 Part 1 Rev. 5 §5.3.6 puts a CA signing key's cryptoperiod at 1-3 years; Hallmark's CAs are online keys, so the short end. */
export const MAX_CA_TTL_SECONDS = 365 * 86_400;

/** Longest rotation period accepted for the online signing keys (access tokens, JWT-SVIDs, checkpoints). */
export const MAX_SIGNING_KEY_PERIOD_MS = 30 * 86_400_000;

/**
 * SP 800-57 Part 1 Rev. 5 Table 4: 112-bit security strength is acceptable for applying
 * protection through 2030 only; a certificate valid after that needs 128 bits.
 */
const STRENGTH_112_UNTIL = Date.UTC(2031, 0, 1);

function requiredStrength(cert: CertificateFacts): number {
  return cert.notAfter >= STRENGTH_112_UNTIL ? 128 : 112;
}

const masterKeySeparated: Control = {
  id: 'HM-KEY-01',
  area: 'key-management',
  title: 'Master key stored apart from the data it protects',
  checks:
    'The master key (which wraps every secret data key and private key stored in PostgreSQL) is supplied from outside the data directory: HALLMARK_MASTER_KEY_FILE naming a file outside it, or HALLMARK_MASTER_KEY. A key generated into the data directory fails.',
  references: {
    pciDss: ['3.6.1', '3.6.1.2', '3.7.3'],
    soc2: ['CC6.1'],
    nist80053: ['SC-12', 'SC-28(1)'],
  },
  remediation:
    'Create a key outside the data directory (openssl rand -base64 32 > /secure/master.key, or a Kubernetes Secret as in deploy/secrets/), copy the existing key there if the installation holds data, and set HALLMARK_MASTER_KEY_FILE to it; then remove master.key from the data directory and from its backups.',
  evaluate({ masterKey }) {
    const evidence: Evidence = {
      source: masterKey.source,
      file: masterKey.path ?? null,
      dataDir: masterKey.dataDir,
    };
    if (masterKey.source === 'generated') {
      return fail(
        `the master key was generated into the data directory (${masterKey.path ?? ''}), beside the database it protects`,
        evidence,
      );
    }
    if (masterKey.source === 'file' && masterKey.path !== undefined) {
      const relative = path.relative(masterKey.dataDir, masterKey.path);
      if (!relative.startsWith('..') && !path.isAbsolute(relative)) {
        return fail(`the master key file ${masterKey.path} is inside the data directory`, evidence);
      }
      return pass('the master key is read from a file outside the data directory', evidence);
    }
    return pass(
      'the master key is supplied in HALLMARK_MASTER_KEY, outside the data directory',
      evidence,
    );
  },
};

const masterKeyPermissions: Control = {
  id: 'HM-KEY-02',
  area: 'key-management',
  title: 'Master key file readable only by its owner and group',
  checks:
    'The file holding the master key grants no permission to other users (mode & 0o007 = 0), so only the server account (and its group, as with the 0440 Secret mount in deploy/) can read it.',
  references: {
    pciDss: ['3.6.1', '7.2.5'],
    soc2: ['CC6.1'],
    nist80053: ['SC-12', 'AC-6'],
  },
  remediation:
    'chmod 0600 (or 0440 with the server group) the master key file; in Kubernetes set the Secret volume defaultMode to 0440 (288) or stricter.',
  evaluate({ masterKey }) {
    if (masterKey.source === 'inline') {
      return notApplicable('the master key comes from HALLMARK_MASTER_KEY, not a file', {
        source: 'inline',
      });
    }
    if (masterKey.mode === undefined) {
      return fail(
        `the master key file could not be examined: ${masterKey.statError ?? 'unknown'}`,
        {
          file: masterKey.path ?? null,
        },
      );
    }
    const evidence = {
      file: masterKey.path ?? null,
      mode: `0${(masterKey.mode & 0o777).toString(8)}`,
    };
    if ((masterKey.mode & 0o007) !== 0) {
      return fail(
        `the master key file is readable by every user (mode ${evidence.mode})`,
        evidence,
      );
    }
    return pass(
      `the master key file grants nothing to other users (mode ${evidence.mode})`,
      evidence,
    );
  },
};

function certificateEvidence(cert: CertificateFacts): Evidence {
  return {
    subject: cert.subject,
    key: cert.keyDescription,
    keyStrengthBits: cert.keyStrengthBits,
    signature: cert.signatureAlgorithm,
    notAfter: isoTime(cert.notAfter),
    sha256: cert.sha256,
  };
}

const caKeyStrength: Control = {
  id: 'HM-KEY-03',
  area: 'key-management',
  title: 'CA keys and signatures of sufficient strength',
  checks:
    "Every CA certificate in use (Hallmark's prepared, active and still-published CAs, and the operator's upstream chain) has a key of at least 112-bit security strength, 128-bit if it is valid after 2030 (SP 800-57 Part 1 Rev. 5 Tables 2 and 4: RSA-2048 = 112, RSA-3072 and P-256 = 128), and is signed with a hash of the same strength (no SHA-1 or MD5); with no unexpired, trusted Hallmark CA there is nothing to judge and the control fails.",
  references: {
    pciDss: ['3.6.1', '3.7.1', '4.2.1'],
    soc2: ['CC6.1', 'CC6.7'],
    nist80053: ['SC-12', 'SC-13', 'SC-17'],
  },
  remediation:
    'Set HALLMARK_CA_KEY_TYPE to ec-p256, ec-p384 or rsa-3072 and run hallmark ca rotate --now; for an upstream CA, issue Hallmark an intermediate under a root with a P-256/P-384 or RSA-3072+ key signed with SHA-256 or better, and point HALLMARK_UPSTREAM_CA_CERT/_KEY at it.',
  evaluate({ ca, now }) {
    const inUse = [
      ...ca.authorities
        .filter((a) => a.notAfter > now && a.status !== 'distrusted')
        .map((a) => ({ ...a, role: `ca ${a.id} (${a.status})` })),
      ...(ca.upstream ?? []).map((u, i) => ({ ...u, role: `upstream[${i}]` })),
    ];
    const weak: string[] = [];
    for (const cert of inUse) {
      const needed = requiredStrength(cert);
      if (cert.keyStrengthBits < needed) {
        weak.push(
          `${cert.role} ${cert.subject}: ${cert.keyDescription} gives ${cert.keyStrengthBits}-bit strength, ${needed} needed`,
        );
      }
      if (cert.signatureHashStrengthBits < needed) {
        weak.push(`${cert.role} ${cert.subject}: signed with ${cert.signatureAlgorithm}`);
      }
    }
    const evidence: Evidence = {
      certificates: inUse.map((c) => ({ role: c.role, ...certificateEvidence(c) })),
    };
    if (weak.length > 0) return fail(weak.join('; '), evidence);
    // No Hallmark CA in use is not "nothing weak": there is nothing to judge, and no issuer.
    if (!inUse.some((c) => !c.role.startsWith('upstream'))) {
      return fail('no Hallmark CA certificate is in use (none unexpired and trusted)', evidence);
    }
    return pass(`${inUse.length} CA certificate(s) in use, all of sufficient strength`, evidence);
  },
};

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
    'Upgrade to a Hallmark that signs audit checkpoints; then check the server log for checkpoint key rotation failures, the database connection, and the server clock.',
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

const hsmKeys: Control = {
  id: 'HM-KEY-08',
  area: 'key-management',
  title: 'Signing keys held in a hardware security module',
  checks:
    'A PKCS#11 token (HALLMARK_PKCS11_MODULE, _TOKEN, _PIN_FILE) is configured, and no private key of a CA, an access-token signing key or a JWT authority is stored in PostgreSQL, even sealed (counted in the key tables, not taken from the configuration), so every key in use is generated and used inside the token.',
  references: {
    pciDss: ['3.6.1.2', '3.7.3'],
    soc2: ['CC6.1'],
    nist80053: ['SC-12', 'SC-13'],
  },
  remediation:
    'Configure HALLMARK_PKCS11_MODULE, HALLMARK_PKCS11_TOKEN and HALLMARK_PKCS11_PIN_FILE for an HSM with a Hallmark that generates its keys in the token (docs/install.md); keys sealed before that retire on their rotation schedule, or at once with hallmark ca rotate --now. Where no HSM is required, record this control as a compensating-control decision: keys are sealed under the master key (HM-KEY-01, HM-KEY-02).',
  evaluate({ hsm }) {
    const sealed = Object.entries(hsm.sealedKeys).filter(([, n]) => n > 0);
    const total = sealed.reduce((sum, [, n]) => sum + n, 0);
    const evidence: Evidence = {
      pkcs11: hsm.moduleConfigured,
      token: hsm.tokenLabel ?? null,
      sealedInPostgres: { ...hsm.sealedKeys },
    };
    const where = sealed.map(([keyring, n]) => `${keyring} ${n}`).join(', ');
    if (!hsm.moduleConfigured) {
      return fail(
        `no PKCS#11 token is configured${total > 0 ? `: ${total} private key(s) (${where}) are sealed under the master key in PostgreSQL and used in server memory` : ''}`,
        evidence,
      );
    }
    if (total > 0) {
      return fail(
        `HALLMARK_PKCS11_MODULE is set, but ${total} private key(s) (${where}) are sealed in PostgreSQL rather than held in the token "${hsm.tokenLabel ?? ''}"`,
        evidence,
      );
    }
    return pass(
      `no private key is stored in PostgreSQL: the keys are held in the PKCS#11 token "${hsm.tokenLabel ?? ''}"`,
      evidence,
    );
  },
};

/** The key-management controls, in id order. */
export const KEY_CONTROLS: readonly Control[] = [
  masterKeySeparated,
  masterKeyPermissions,
  caKeyStrength,
  caRotation,
  accessTokenKeyRotation,
  jwtAuthorityRotation,
  checkpointKeyRotation,
  hsmKeys,
];
