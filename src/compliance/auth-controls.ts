// Authentication and lifetime controls: token and SVID TTLs, the admin key's age, the broker password.
import {
  describeSeconds,
  fail,
  isoTime,
  notApplicable,
  pass,
  type Control,
  type Evidence,
} from './control.js';

/** Re-authentication within 15 minutes (PCI DSS v4.0 8.2.8's bound, applied to bearer credentials). */
export const MAX_BEARER_TTL_SECONDS = 15 * 60;
/** Longest X509-SVID lifetime accepted. */
export const MAX_X509_SVID_TTL_SECONDS = 24 * 3600;
/** Oldest admin API key accepted (PCI DSS v4.0 8.3.9's 90 days). */
export const MAX_ADMIN_KEY_AGE_SECONDS = 90 * 86_400;
/** Shortest broker password accepted (above PCI DSS v4.0 8.3.6's 12). */
export const MIN_BROKER_PASSWORD_LENGTH = 16;
/** Fewest distinct characters in the broker password. */
export const MIN_BROKER_PASSWORD_DISTINCT = 8;

const sessionReferences = {
  pciDss: ['8.2.8', '8.6.3'],
  soc2: ['CC6.1'],
  nist80053: ['AC-12', 'IA-11', 'SC-23'],
};

const accessTokenTtl: Control = {
  id: 'HM-AUTH-01',
  area: 'authentication',
  title: 'Access tokens live at most 15 minutes',
  checks: `HALLMARK_TOKEN_TTL, the lifetime of every access token (workloads and API keys), is at most ${describeSeconds(MAX_BEARER_TTL_SECONDS)}, so a stolen token is useless after that and every caller re-authenticates.`,
  references: sessionReferences,
  remediation: 'Set HALLMARK_TOKEN_TTL to 15m or less (8m by default) and restart the servers.',
  evaluate({ lifetimes }) {
    const evidence = {
      tokenTtl: describeSeconds(lifetimes.tokenTtlSeconds),
      limit: describeSeconds(MAX_BEARER_TTL_SECONDS),
    };
    return lifetimes.tokenTtlSeconds > MAX_BEARER_TTL_SECONDS
      ? fail(`HALLMARK_TOKEN_TTL is ${evidence.tokenTtl}, above ${evidence.limit}`, evidence)
      : pass(`access tokens live ${evidence.tokenTtl}`, evidence);
  },
};

const x509SvidTtl: Control = {
  id: 'HM-AUTH-02',
  area: 'authentication',
  title: 'X509-SVIDs live at most 24 hours',
  checks: `The default X509-SVID lifetime (HALLMARK_SVID_TTL), the most a registration may ask for (HALLMARK_MAX_SVID_TTL), and the lifetime of every X509-SVID still valid in the issuance records are at most ${describeSeconds(MAX_X509_SVID_TTL_SECONDS)}: SVIDs are not revocable, so their lifetime bounds how long a stolen one works.`,
  references: {
    pciDss: ['4.2.1', '8.6.3'],
    soc2: ['CC6.1', 'CC6.7'],
    nist80053: ['IA-5(2)', 'SC-17'],
  },
  remediation:
    'Set HALLMARK_SVID_TTL and HALLMARK_MAX_SVID_TTL to 24h or less; an SVID recorded with a longer lifetime was not issued by this configuration: find it by serial in issued_certificates and the audit log (svid.x509.issued).',
  evaluate({ lifetimes, now }) {
    const longest = lifetimes.longestLiveSvid;
    const evidence: Evidence = {
      svidTtl: describeSeconds(lifetimes.svidTtlSeconds),
      maxSvidTtl: describeSeconds(lifetimes.maxSvidTtlSeconds),
      liveSvids: lifetimes.liveSvids,
      longestLive:
        longest === undefined
          ? null
          : {
              serial: longest.serial,
              spiffeId: longest.spiffeId,
              issuedAt: isoTime(longest.issuedAt),
              notAfter: isoTime(longest.notAfter),
            },
      limit: describeSeconds(MAX_X509_SVID_TTL_SECONDS),
    };
    const problems: string[] = [];
    if (lifetimes.svidTtlSeconds > MAX_X509_SVID_TTL_SECONDS)
      problems.push(`HALLMARK_SVID_TTL is ${describeSeconds(lifetimes.svidTtlSeconds)}`);
    if (lifetimes.maxSvidTtlSeconds > MAX_X509_SVID_TTL_SECONDS)
      problems.push(`HALLMARK_MAX_SVID_TTL is ${describeSeconds(lifetimes.maxSvidTtlSeconds)}`);
    if (longest !== undefined && longest.notAfter > now) {
      const seconds = Math.round((longest.notAfter - longest.issuedAt) / 1000);
      if (seconds > MAX_X509_SVID_TTL_SECONDS) {
        problems.push(
          `the X509-SVID ${longest.serial} for ${longest.spiffeId}, valid until ${isoTime(longest.notAfter)}, lives ${describeSeconds(seconds)}`,
        );
      }
    }
    return problems.length > 0
      ? fail(`${problems.join('; ')}: above ${evidence.limit as string}`, evidence)
      : pass(`X509-SVIDs live at most ${evidence.maxSvidTtl as string}`, evidence);
  },
};

const jwtSvidTtl: Control = {
  id: 'HM-AUTH-03',
  area: 'authentication',
  title: 'JWT-SVIDs live at most 15 minutes',
  checks: `HALLMARK_JWT_SVID_TTL is at most ${describeSeconds(MAX_BEARER_TTL_SECONDS)}: JWT-SVIDs are bearer tokens a relying party accepts until they expire.`,
  references: sessionReferences,
  remediation: 'Set HALLMARK_JWT_SVID_TTL to 15m or less (5m by default) and restart the servers.',
  evaluate({ lifetimes }) {
    const evidence = {
      jwtSvidTtl: describeSeconds(lifetimes.jwtSvidTtlSeconds),
      limit: describeSeconds(MAX_BEARER_TTL_SECONDS),
    };
    return lifetimes.jwtSvidTtlSeconds > MAX_BEARER_TTL_SECONDS
      ? fail(`HALLMARK_JWT_SVID_TTL is ${evidence.jwtSvidTtl}, above ${evidence.limit}`, evidence)
      : pass(`JWT-SVIDs live ${evidence.jwtSvidTtl}`, evidence);
  },
};

const adminKeyAge: Control = {
  id: 'HM-AUTH-04',
  area: 'authentication',
  title: 'Admin API key changed at least every 90 days',
  checks: `The admin API key (the break-glass credential of every admin command) was created or last rotated at most ${describeSeconds(MAX_ADMIN_KEY_AGE_SECONDS)} ago, and is not revoked.`,
  references: {
    pciDss: ['8.3.9', '8.6.3'],
    soc2: ['CC6.1', 'CC6.2'],
    nist80053: ['IA-5', 'AC-2'],
  },
  remediation:
    'Run hallmark apikey rotate admin: the old key and every token it obtained stop working at once; store the new key (printed once, or written to admin.key in the data directory) in your secret manager.',
  evaluate({ adminKey, now }) {
    if (adminKey === undefined) return fail('there is no admin API key', { adminKey: null });
    const ageSeconds = Math.max(0, Math.round((now - adminKey.createdAt) / 1000));
    const evidence = {
      createdAt: isoTime(adminKey.createdAt),
      age: describeSeconds(ageSeconds),
      limit: describeSeconds(MAX_ADMIN_KEY_AGE_SECONDS),
      revoked: adminKey.revoked,
    };
    if (adminKey.revoked) return fail('the admin API key is revoked', evidence);
    if (ageSeconds > MAX_ADMIN_KEY_AGE_SECONDS) {
      return fail(
        `the admin API key was set ${evidence.age} ago (${evidence.createdAt}), more than ${evidence.limit}`,
        evidence,
      );
    }
    return pass(`the admin API key is ${evidence.age} old`, evidence);
  },
};

const brokerPassword: Control = {
  id: 'HM-AUTH-05',
  area: 'authentication',
  title: 'Broker password strength',
  checks: `When the Open Service Broker is enabled, HALLMARK_BROKER_PASSWORD has at least ${MIN_BROKER_PASSWORD_LENGTH} characters, both letters and digits, at least ${MIN_BROKER_PASSWORD_DISTINCT} distinct characters, and does not contain the username. Only these properties are reported, never the password.`,
  references: {
    pciDss: ['8.3.6', '8.6.3'],
    soc2: ['CC6.1'],
    nist80053: ['IA-5(1)'],
  },
  remediation:
    "Generate a random password (openssl rand -base64 24), set it as HALLMARK_BROKER_PASSWORD on the servers and in the platform's broker registration, and restart the servers.",
  evaluate({ broker }) {
    if (broker === undefined)
      return notApplicable('the service broker is disabled (HALLMARK_BROKER_USERNAME unset)', {
        broker: false,
      });
    const p = broker.password;
    const evidence: Evidence = {
      length: p.length,
      letters: p.lowercase || p.uppercase,
      digits: p.digits,
      distinctCharacters: p.distinct,
      containsUsername: p.containsUsername,
    };
    const problems: string[] = [];
    if (p.length < MIN_BROKER_PASSWORD_LENGTH) problems.push(`it has ${p.length} characters`);
    if (!(p.lowercase || p.uppercase) || !p.digits) problems.push('it lacks letters or digits');
    if (p.distinct < MIN_BROKER_PASSWORD_DISTINCT)
      problems.push(`it has only ${p.distinct} distinct characters`);
    if (p.containsUsername) problems.push('it contains the username');
    return problems.length > 0
      ? fail(`the broker password is weak: ${problems.join(', ')}`, evidence)
      : pass('the broker password meets the length and composition rules', evidence);
  },
};

/** The authentication controls, in id order. */
export const AUTH_CONTROLS: readonly Control[] = [
  accessTokenTtl,
  x509SvidTtl,
  jwtSvidTtl,
  adminKeyAge,
  brokerPassword,
];
