// Every control passes on a compliant installation and fails, naming the cause, on each break.
import { describe, expect, it } from 'vitest';
import {
  CONTROLS,
  evaluateControls,
  type Control,
  type InstallationSnapshot,
} from '../../src/compliance/index.js';
import { retentionFacts } from '../../src/compliance/retention-facts.js';
import type { KubeObject } from '../../src/manifest/index.js';
import { NOW, compliantSnapshot } from './snapshot-fixture.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type Snapshot = InstallationSnapshot;
type Break = (s: Snapshot) => Snapshot;

function evaluate(id: string, snapshot: Snapshot) {
  const control = CONTROLS.find((c) => c.id === id) as Control;
  return control.evaluate(snapshot);
}

/** Replaces manifest objects matching `pick` by `change(object)` (a deep copy). */
function editManifests(
  s: Snapshot,
  pick: (o: KubeObject) => boolean,
  change: (o: KubeObject) => KubeObject,
): Snapshot {
  const manifests = s.manifests!;
  return {
    ...s,
    manifests: {
      ...manifests,
      objects: manifests.objects.map((entry) =>
        pick(entry.object) ? { ...entry, object: change(structuredClone(entry.object)) } : entry,
      ),
    },
  };
}

const isServer = (o: KubeObject) =>
  o.kind === 'Deployment' && o.metadata?.name === 'hallmark-server';

/** Non-compliant states: control id, what was broken, and what the reason must name. */
const BREAKS: readonly { id: string; what: string; change: Break; cause: RegExp }[] = [
  {
    id: 'HM-KEY-01',
    what: 'a master key generated in the data dir',
    cause: /generated into the data directory/,
    change: (s) => ({
      ...s,
      masterKey: {
        source: 'generated',
        path: '/var/lib/hallmark/master.key',
        dataDir: '/var/lib/hallmark',
        mode: 0o600,
      },
    }),
  },
  {
    id: 'HM-KEY-01',
    what: 'a master key file inside the data dir',
    cause: /inside the data directory/,
    change: (s) => ({
      ...s,
      masterKey: { ...s.masterKey, path: '/var/lib/hallmark/keys/master.key' },
    }),
  },
  {
    id: 'HM-KEY-02',
    what: 'a world-readable master key file',
    cause: /readable by every user \(mode 0644\)/,
    change: (s) => ({ ...s, masterKey: { ...s.masterKey, mode: 0o644 } }),
  },
  {
    id: 'HM-KEY-02',
    what: 'a master key file that cannot be examined',
    cause: /could not be examined: ENOENT/,
    change: (s) => ({
      ...s,
      masterKey: { source: 'file', path: '/gone', dataDir: '/d', statError: 'ENOENT' },
    }),
  },
  {
    id: 'HM-KEY-03',
    what: 'an RSA-2048 upstream root valid after 2030',
    cause: /upstream\[0\] CN=Old Root: RSA 2048 gives 112-bit strength, 128 needed/,
    change: (s) => ({
      ...s,
      ca: {
        ...s.ca,
        upstream: [
          {
            ...s.ca.authorities[0]!,
            subject: 'CN=Old Root',
            keyDescription: 'RSA 2048',
            keyStrengthBits: 112,
            notAfter: Date.UTC(2036, 0, 1),
          },
        ],
      },
    }),
  },
  {
    id: 'HM-KEY-03',
    what: 'a SHA-1 signed upstream certificate',
    cause: /signed with sha1WithRSAEncryption/,
    change: (s) => ({
      ...s,
      ca: {
        ...s.ca,
        upstream: [
          {
            ...s.ca.authorities[0]!,
            subject: 'CN=Root',
            signatureAlgorithm: 'sha1WithRSAEncryption',
            signatureHashStrengthBits: 63,
          },
        ],
      },
    }),
  },
  {
    id: 'HM-KEY-04',
    what: 'HALLMARK_CA_TTL=730d',
    cause: /HALLMARK_CA_TTL is 730d, above the 365d limit/,
    change: (s) => ({ ...s, ca: { ...s.ca, ttlSeconds: 730 * 86_400 } }),
  },
  {
    id: 'HM-KEY-04',
    what: 'a successor never prepared',
    cause: /no successor CA was prepared/,
    change: (s) => ({ ...s, now: NOW + 20 * DAY }),
  },
  {
    id: 'HM-KEY-04',
    what: 'an expired active CA',
    cause: /expired/,
    change: (s) => ({ ...s, now: NOW + 40 * DAY }),
  },
  {
    id: 'HM-KEY-05',
    what: 'access-token key rotation stalled',
    cause: /access-token signing key k1 has signed since .* against a rotation period of 1d/,
    change: (s) => ({ ...s, now: NOW + 3 * DAY }),
  },
  {
    id: 'HM-KEY-06',
    what: 'JWT authority rotation stalled',
    cause: /JWT-SVID authority key j1 has signed since/,
    change: (s) => ({ ...s, now: NOW + 3 * DAY }),
  },
  {
    id: 'HM-KEY-06',
    what: 'no active JWT authority',
    cause: /no JWT-SVID authority key is active/,
    change: (s) => ({ ...s, jwtAuthorities: { ...s.jwtAuthorities, slots: [] } }),
  },
  {
    id: 'HM-KEY-07',
    what: 'no checkpoint key on this server',
    cause: /no audit checkpoint key/,
    change: (s) => ({ ...s, checkpointKeys: undefined }),
  },
  {
    id: 'HM-KEY-07',
    what: 'a checkpoint key period of 90 days',
    cause: /rotate every 90d, above the limit/,
    change: (s) => ({
      ...s,
      checkpointKeys: {
        ...s.checkpointKeys!,
        schedule: { ...s.checkpointKeys!.schedule, rotationPeriodMs: 90 * DAY },
      },
    }),
  },
  {
    id: 'HM-KEY-03',
    what: 'no unexpired, trusted CA',
    cause: /no Hallmark CA certificate is in use/,
    change: (s) => ({
      ...s,
      ca: {
        ...s.ca,
        authorities: [
          { ...s.ca.authorities[0]!, status: 'distrusted' },
          { ...s.ca.authorities[0]!, id: 2, status: 'old', notAfter: NOW - DAY },
        ],
      },
    }),
  },
  {
    id: 'HM-KEY-08',
    what: 'no PKCS#11 token',
    cause:
      /no PKCS#11 token is configured: 4 private key\(s\) \(ca 2, access-token 1, jwt-authority 1\) are sealed/,
    change: (s) => ({
      ...s,
      hsm: {
        moduleConfigured: false,
        sealedKeys: { ca: 2, 'access-token': 1, 'jwt-authority': 1 },
      },
    }),
  },
  {
    id: 'HM-KEY-08',
    what: 'a token configured while a key is still sealed in PostgreSQL',
    cause:
      /HALLMARK_PKCS11_MODULE is set, but 1 private key\(s\) \(ca 1\) are sealed in PostgreSQL/,
    change: (s) => ({
      ...s,
      hsm: { ...s.hsm, sealedKeys: { ...s.hsm.sealedKeys, ca: 1 } },
    }),
  },
  {
    id: 'HM-AUTH-01',
    what: 'HALLMARK_TOKEN_TTL=2h',
    cause: /HALLMARK_TOKEN_TTL is 2h, above 15m/,
    change: (s) => ({ ...s, lifetimes: { ...s.lifetimes, tokenTtlSeconds: 7200 } }),
  },
  {
    id: 'HM-AUTH-02',
    what: 'an SVID recorded with a 48 h lifetime',
    cause:
      /the X509-SVID 01ab for spiffe:\/\/hallmark.local\/ns\/demo\/sa\/app, valid until .* lives 2d/,
    change: (s) => ({
      ...s,
      lifetimes: {
        ...s.lifetimes,
        longestLiveSvid: {
          ...s.lifetimes.longestLiveSvid!,
          issuedAt: NOW - DAY,
          notAfter: NOW + DAY,
        },
      },
    }),
  },
  {
    id: 'HM-AUTH-02',
    what: 'HALLMARK_SVID_TTL above 24 h',
    cause: /HALLMARK_SVID_TTL is 2d/,
    change: (s) => ({ ...s, lifetimes: { ...s.lifetimes, svidTtlSeconds: 2 * 86_400 } }),
  },
  {
    id: 'HM-AUTH-03',
    what: 'HALLMARK_JWT_SVID_TTL=1h',
    cause: /HALLMARK_JWT_SVID_TTL is 1h, above 15m/,
    change: (s) => ({ ...s, lifetimes: { ...s.lifetimes, jwtSvidTtlSeconds: 3600 } }),
  },
  {
    id: 'HM-AUTH-04',
    what: 'an admin key 100 days old',
    cause: /admin API key was set 100d ago/,
    change: (s) => ({ ...s, adminKey: { createdAt: NOW - 100 * DAY, revoked: false } }),
  },
  {
    id: 'HM-AUTH-04',
    what: 'a revoked admin key',
    cause: /revoked/,
    change: (s) => ({ ...s, adminKey: { createdAt: NOW, revoked: true } }),
  },
  {
    id: 'HM-AUTH-05',
    what: 'a 16-character broker password of one letter',
    cause: /lacks letters or digits, it has only 1 distinct characters/,
    change: (s) => ({
      ...s,
      broker: {
        password: {
          length: 16,
          lowercase: true,
          uppercase: false,
          digits: false,
          symbols: false,
          distinct: 1,
          containsUsername: false,
        },
      },
    }),
  },
  {
    id: 'HM-AUTH-05',
    what: 'a broker password containing the username',
    cause: /contains the username/,
    change: (s) => ({
      ...s,
      broker: { password: { ...s.broker!.password, containsUsername: true } },
    }),
  },
  {
    id: 'HM-PRIV-01',
    what: 'a policy granting "*" to a workload',
    cause: /spiffe:\/\/hallmark.local\/ns\/demo\/sa\/app may read "\*"/,
    change: (s) => ({
      ...s,
      policy: {
        ...s.policy,
        grants: [
          { subject: 'spiffe://hallmark.local/ns/demo/sa/app', readAll: true, writeAll: false },
        ],
      },
    }),
  },
  {
    id: 'HM-PRIV-01',
    what: 'a grant to every workload',
    cause: /spiffe:\/\/hallmark.local\/\* \(every workload\) is granted secrets/,
    change: (s) => ({
      ...s,
      policy: {
        ...s.policy,
        grants: [{ subject: 'spiffe://hallmark.local/*', readAll: false, writeAll: false }],
      },
    }),
  },
  {
    id: 'HM-PRIV-02',
    what: 'a registration rendering outside its namespace',
    cause: /workloads\[0\] \(ops\) \/ops\/\{serviceAccount\}/,
    change: (s) => ({
      ...s,
      policy: {
        ...s.policy,
        registrations: [
          {
            index: 0,
            namespace: 'ops',
            template: '/ops/{serviceAccount}',
            ttlSeconds: undefined,
            allowForeignPath: false,
            unconfined: true,
          },
        ],
      },
    }),
  },
  {
    id: 'HM-PRIV-03',
    what: 'a ClusterRole with list pods',
    cause: /ClusterRole hallmark-attestor grants more .*verbs is \["get","list"\]/,
    change: (s) =>
      editManifests(
        s,
        (o) => o.kind === 'ClusterRole',
        (o) => {
          (o['rules'] as { verbs: string[] }[])[1]!.verbs = ['get', 'list'];
          return o;
        },
      ),
  },
  {
    id: 'HM-PRIV-03',
    what: 'a second role bound to the server',
    cause: /bound to 2 roles/,
    change: (s) => ({
      ...s,
      manifests: {
        ...s.manifests!,
        objects: [
          ...s.manifests!.objects,
          {
            file: 'extra.yaml',
            object: {
              apiVersion: 'rbac.authorization.k8s.io/v1',
              kind: 'ClusterRole',
              metadata: { name: 'extra' },
              rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }],
            },
          },
          {
            file: 'extra.yaml',
            object: {
              apiVersion: 'rbac.authorization.k8s.io/v1',
              kind: 'ClusterRoleBinding',
              metadata: { name: 'extra' },
              roleRef: {
                apiGroup: 'rbac.authorization.k8s.io',
                kind: 'ClusterRole',
                name: 'extra',
              },
              subjects: [{ kind: 'ServiceAccount', name: 'hallmark', namespace: 'hallmark' }],
            },
          },
        ],
      },
    }),
  },
  {
    id: 'HM-PRIV-04',
    what: 'a pod that may run as root',
    cause: /Deployment hallmark\/hallmark-server: pod: securityContext.runAsNonRoot must be true/,
    change: (s) =>
      editManifests(s, isServer, (o) => {
        delete (
          o['spec'] as { template: { spec: { securityContext: { runAsNonRoot?: boolean } } } }
        ).template.spec.securityContext.runAsNonRoot;
        return o;
      }),
  },
  {
    id: 'HM-PRIV-04',
    what: 'pods in a namespace the manifests do not define',
    cause: /pods run in namespace "hallmark", which the manifests do not define/,
    change: (s) => ({
      ...s,
      manifests: {
        ...s.manifests!,
        objects: s.manifests!.objects.filter((o) => o.object.kind !== 'Namespace'),
      },
    }),
  },
  {
    id: 'HM-PRIV-04',
    what: 'a namespace that only warns',
    cause: /Namespace hallmark enforces "baseline"/,
    change: (s) =>
      editManifests(
        s,
        (o) => o.kind === 'Namespace' && o.metadata?.name === 'hallmark',
        (o) => {
          o.metadata!.labels!['pod-security.kubernetes.io/enforce'] = 'baseline';
          return o;
        },
      ),
  },
  {
    id: 'HM-LOG-01',
    what: 'a tampered audit row',
    cause: /broken at seq 17: row content does not match its hash/,
    change: (s) => ({
      ...s,
      audit: { ok: false, rows: 16, seq: 17, problem: 'row content does not match its hash' },
    }),
  },
  {
    id: 'HM-LOG-02',
    what: 'a row three hours old that no checkpoint covers',
    cause: /row 6, committed 3h ago, is not covered by a checkpoint: the newest \(seq 5\)/,
    change: (s) => ({
      ...s,
      checkpoints: {
        intervalSeconds: 3600,
        tickMs: 1000,
        latest: { seq: 5, signedAt: NOW - 4 * HOUR },
        oldestUnsigned: { seq: 6, committedAt: NOW - 3 * HOUR },
      },
    }),
  },
  {
    id: 'HM-LOG-02',
    what: 'rows and no checkpoint at all',
    cause: /no audit checkpoint has been signed, and row 1 was committed 1d ago/,
    change: (s) => ({
      ...s,
      checkpoints: {
        ...s.checkpoints!,
        latest: undefined,
        oldestUnsigned: { seq: 1, committedAt: NOW - DAY },
      },
    }),
  },
  {
    id: 'HM-LOG-02',
    what: 'no checkpoints on this server',
    cause: /makes no signed audit checkpoints/,
    change: (s) => ({ ...s, checkpoints: undefined }),
  },
  {
    id: 'HM-LOG-03',
    what: 'no sink',
    cause: /no audit sink is configured/,
    change: (s) => ({ ...s, auditSinks: { lagAlarmSeconds: 300, sinks: [] } }),
  },
  {
    id: 'HM-LOG-03',
    what: 'a stopped sink',
    cause: /sink syslog has 42 undelivered row\(s\), the oldest committed 10m ago/,
    change: (s) => ({
      ...s,
      auditSinks: {
        lagAlarmSeconds: 300,
        sinks: [
          {
            name: 'syslog',
            deliveredSeq: 78,
            undeliveredRows: 42,
            oldestUndeliveredAt: NOW - 10 * 60_000,
          },
        ],
      },
    }),
  },
  {
    id: 'HM-LOG-03',
    what: 'a lag alarm of a day',
    cause: /HALLMARK_AUDIT_SINK_LAG_ALARM is 1d, above 1h/,
    change: (s) => ({ ...s, auditSinks: { ...s.auditSinks, lagAlarmSeconds: 86_400 } }),
  },
  {
    id: 'HM-LOG-04',
    what: 'no retention policy on this server',
    cause: /no audit archive or retention policy/,
    change: (s) => ({ ...s, retention: undefined }),
  },
  {
    id: 'HM-LOG-04',
    what: 'an archive kept 6 months',
    cause: /kept 180d in all, under 365d/,
    change: (s) => ({
      ...s,
      retention: { ...s.retention!, onlineSeconds: 90 * 86_400, archiveSeconds: 180 * 86_400 },
    }),
  },
  {
    id: 'HM-LOG-04',
    what: 'rows online only 30 days',
    cause: /rows stay in PostgreSQL only 30d, under 90d/,
    change: (s) => ({ ...s, retention: { ...s.retention!, onlineSeconds: 30 * 86_400 } }),
  },
  {
    id: 'HM-LOG-04',
    what: 'rows archived with no archive retention declared',
    cause:
      /archived after 100d but no archive retention applies \(HALLMARK_AUDIT_ARCHIVE_RETENTION unset\)/,
    change: (s) => ({ ...s, retention: { ...s.retention!, archiveSeconds: undefined } }),
  },
  {
    id: 'HM-LOG-04',
    what: 'an archive retention declared without an archive directory',
    cause: /no archive retention applies \(no archive directory\)/,
    change: (s) => ({
      ...s,
      retention: retentionFacts({
        archiveDir: undefined,
        onlineSeconds: 100 * 86_400,
        archiveSeconds: 400 * 86_400,
      }),
    }),
  },
  {
    id: 'HM-TLS-01',
    what: 'a CBC-SHA1 suite in HALLMARK_TLS_CIPHERS',
    cause: /ECDHE-ECDSA-AES128-SHA offers CBC mode with a SHA-1 MAC/,
    change: (s) => ({
      ...s,
      tls: { ...s.tls, ciphers: [...s.tls.ciphers, 'ECDHE-ECDSA-AES128-SHA'] },
    }),
  },
  {
    id: 'HM-TLS-01',
    what: 'a static-RSA suite',
    cause: /AES256-GCM-SHA384 offers no forward secrecy/,
    change: (s) => ({ ...s, tls: { ...s.tls, ciphers: ['AES256-GCM-SHA384'] } }),
  },
  {
    id: 'HM-TLS-02',
    what: 'an upstream certificate expiring in 5 days',
    cause: /upstream certificate CN=Corp Root expires .* within 7d/,
    change: (s) => ({
      ...s,
      ca: {
        ...s.ca,
        upstream: [{ ...s.ca.authorities[0]!, subject: 'CN=Corp Root', notAfter: NOW + 5 * DAY }],
      },
    }),
  },
  {
    id: 'HM-TLS-02',
    what: 'a serving certificate not renewed',
    cause: /was due for renewal/,
    change: (s) => ({ ...s, tls: { ...s.tls, renewAt: NOW - 3 * HOUR } }),
  },
  {
    id: 'HM-DEP-01',
    what: 'a critical advisory',
    cause: /vulnerable production packages: evil <2\.0\.0 \(critical: Remote code execution\)/,
    change: (s) => ({
      ...s,
      dependencies: {
        ...(s.dependencies as Extract<Snapshot['dependencies'], { ran: true }>),
        counts: { info: 0, low: 0, moderate: 0, high: 0, critical: 1 },
        packages: [
          {
            name: 'evil',
            severity: 'critical',
            range: '<2.0.0',
            fixAvailable: true,
            advisories: [
              {
                title: 'Remote code execution',
                url: 'https://github.com/advisories/GHSA-xxxx-yyyy-zzzz',
                severity: 'critical',
                range: '<2.0.0',
              },
            ],
            through: [],
          },
        ],
      },
    }),
  },
];

describe('controls', () => {
  it('all pass on a compliant installation', () => {
    const results = evaluateControls(compliantSnapshot());
    expect(results.filter((r) => r.status !== 'pass').map((r) => `${r.id}: ${r.reason}`)).toEqual(
      [],
    );
  });

  it('have unique ids and references in every framework', () => {
    expect(new Set(CONTROLS.map((c) => c.id)).size).toBe(CONTROLS.length);
    for (const control of CONTROLS) {
      expect(control.id).toMatch(/^HM-[A-Z]+-\d\d$/);
      expect(control.references.pciDss.length, control.id).toBeGreaterThan(0);
      expect(
        control.references.soc2.every((id) => /^(CC\d\.\d|A1\.\d|PI1\.\d|C1\.\d)$/.test(id)),
        control.id,
      ).toBe(true);
      expect(
        control.references.nist80053.every((id) => /^[A-Z]{2}-\d+(\(\d+\))?$/.test(id)),
        control.id,
      ).toBe(true);
      expect(
        control.references.pciDss.every((id) => /^\d+(\.\d+){1,3}$/.test(id)),
        control.id,
      ).toBe(true);
    }
  });

  it('can each be made to fail: every control has a non-compliant state below', () => {
    expect(new Set(BREAKS.map((b) => b.id))).toEqual(new Set(CONTROLS.map((c) => c.id)));
  });

  for (const { id, what, change, cause } of BREAKS) {
    it(`${id} fails on ${what}, naming the cause`, () => {
      const verdict = evaluate(id, change(compliantSnapshot()));
      expect(verdict.status).toBe('fail');
      expect(verdict.reason).toMatch(cause);
    });
  }
});

describe('controls that may not apply', () => {
  it('say why: inline master key, broker off, no manifests, no audit, another version', () => {
    const s = compliantSnapshot();
    const cases: [string, Snapshot, RegExp][] = [
      [
        'HM-KEY-02',
        { ...s, masterKey: { source: 'inline', dataDir: '/d' } },
        /HALLMARK_MASTER_KEY, not a file/,
      ],
      ['HM-AUTH-05', { ...s, broker: undefined }, /broker is disabled/],
      ['HM-PRIV-03', { ...s, manifests: undefined }, /no Kubernetes manifests were supplied/],
      ['HM-PRIV-04', { ...s, manifests: undefined }, /no Kubernetes manifests were supplied/],
      ['HM-DEP-01', { ...s, dependencies: undefined }, /no dependency audit was supplied/],
      [
        'HM-DEP-01',
        {
          ...s,
          dependencies: {
            ran: false,
            tool: 'npm audit --omit=dev',
            auditedAt: NOW,
            packageVersion: '0.1.0',
            lockfileSha256: '0'.repeat(64),
            reason: 'ENOTFOUND',
          },
        },
        /ENOTFOUND/,
      ],
      [
        'HM-DEP-01',
        { ...s, server: { ...s.server, version: '0.2.0' } },
        /lockfile is of Hallmark 0\.1\.0, the server runs 0\.2\.0/,
      ],
    ];
    for (const [id, snapshot, reason] of cases) {
      const verdict = evaluate(id, snapshot);
      expect(verdict.status, id).toBe('not-applicable');
      expect(verdict.reason, id).toMatch(reason);
    }
  });

  it('moderate advisories are listed but do not fail', () => {
    const s = compliantSnapshot();
    const verdict = evaluate('HM-DEP-01', s);
    expect(verdict.status).toBe('pass');
    expect(JSON.stringify(verdict.evidence)).toContain('lowly');
  });

  it('HM-LOG-02 passes on an old checkpoint when the head has not moved since', () => {
    const s = compliantSnapshot();
    const idle = {
      ...s,
      checkpoints: {
        ...s.checkpoints!,
        latest: { seq: 118, signedAt: NOW - 5 * DAY },
        oldestUnsigned: undefined,
      },
    };
    expect(evaluate('HM-LOG-02', idle).status).toBe('pass');
  });

  it('HM-LOG-04 passes when rows are never archived, whatever the archive keeps', () => {
    const forever = retentionFacts({
      archiveDir: '/var/lib/hallmark-audit',
      onlineSeconds: undefined,
      archiveSeconds: 365 * 86_400,
    });
    expect(evaluate('HM-LOG-04', { ...compliantSnapshot(), retention: forever })).toMatchObject({
      status: 'pass',
      evidence: { online: 'forever', archive: '365d' },
    });
  });

  it('a control that throws fails instead of passing', () => {
    const broken: Control = {
      ...CONTROLS[0]!,
      evaluate: () => {
        throw new Error('boom');
      },
    };
    const [result] = evaluateControls(compliantSnapshot(), [broken]);
    expect(result).toMatchObject({ status: 'fail', reason: expect.stringMatching(/boom/) });
  });

  it('evidence never carries the broker password or the master key', () => {
    const text = JSON.stringify(evaluateControls(compliantSnapshot()));
    expect(text).not.toMatch(/password"\s*:\s*"/i);
  });
});
