// Key management controls: the master key's storage, CA key strength, the HSM; rotation is imported.
import path from 'node:path';
import { fail, isoTime, notApplicable, pass, type Control, type Evidence } from './control.js';
import type { CertificateFacts } from './installation-snapshot.js';
import { KEY_ROTATION_CONTROLS } from './key-rotation-controls.js';

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
    'The master key (which wraps every secret data key and private key stored in PostgreSQL) is supplied from outside the data directory: HALLMARK_MASTER_KEY_FILE naming a file outside it (both paths compared with symlinks resolved), or HALLMARK_MASTER_KEY. A key generated into the data directory fails.',
  references: {
    pciDss: ['3.6.1', '3.6.1.2', '3.7.3'],
    soc2: ['CC6.1'],
    nist80053: ['SC-12', 'SC-28(1)'],
  },
  remediation:
    'Create a key outside the data directory (openssl rand -base64 32 > /secure/master.key, or a Kubernetes Secret as in deploy/secrets/), copy the existing key there if the installation holds data, and set HALLMARK_MASTER_KEY_FILE to it; then remove master.key from the data directory and from its backups.',
  evaluate({ masterKey }) {
    const evidence: Record<string, Evidence[string]> = {
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
      const file = masterKey.resolvedPath ?? masterKey.path;
      const dataDir = masterKey.resolvedDataDir ?? masterKey.dataDir;
      if (file !== masterKey.path) evidence['resolvedFile'] = file;
      const relative = path.relative(dataDir, file);
      if (!relative.startsWith('..') && !path.isAbsolute(relative)) {
        return fail(
          `the master key file ${masterKey.path}${file === masterKey.path ? '' : ` (${file})`} is inside the data directory`,
          evidence,
        );
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

const hsmKeys: Control = {
  id: 'HM-KEY-08',
  area: 'key-management',
  title: 'Signing keys held in a hardware security module',
  checks:
    'A PKCS#11 token (HALLMARK_PKCS11_MODULE, _TOKEN, _PIN_FILE) is configured, and no private key of a CA, an access-token signing key, a JWT authority or an audit checkpoint key is stored in PostgreSQL, even sealed (counted in the key tables, not taken from the configuration), so every key in use is generated and used inside the token.',
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
  ...KEY_ROTATION_CONTROLS,
  hsmKeys,
];
