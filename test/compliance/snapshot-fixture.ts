// A compliant installation snapshot for the pure control tests; each test changes one thing.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { InstallationSnapshot } from '../../src/compliance/index.js';
import { suppliedManifests } from '../../src/compliance/supplied-manifests.js';
import { REPO_ROOT, listRepoFiles } from '../deploy/deploy-files.js';

export const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The manifests of deploy/ (git-tracked files), as `hallmark compliance` would send them. */
export function deployManifests(): InstallationSnapshot['manifests'] {
  const files = listRepoFiles('deploy')
    .filter((file) => /\.ya?ml$/.test(file))
    .map((file) => ({
      path: path.relative('deploy', file),
      content: readFileSync(path.join(REPO_ROOT, file), 'utf8'),
    }));
  return suppliedManifests('deploy/', files);
}

const schedule = {
  rotationPeriodMs: DAY,
  tokenTtlMs: 8 * 60_000,
  clockToleranceMs: 5_000,
  propagationMs: 30_000,
};

const cert = (subject: string, notBefore: number, notAfter: number) => ({
  subject,
  notBefore,
  notAfter,
  keyDescription: 'EC prime256v1',
  keyStrengthBits: 128,
  signatureAlgorithm: 'ecdsa-with-SHA256',
  signatureHashStrengthBits: 128,
  sha256: 'ab'.repeat(32),
});

/** Everything as it should be; HSM and in-flight inputs present and fine. */
export function compliantSnapshot(): InstallationSnapshot {
  return {
    now: NOW,
    server: {
      trustDomain: 'hallmark.local',
      publicUrl: 'https://hallmark.test:8443',
      version: '0.1.0',
    },
    masterKey: {
      source: 'file',
      path: '/etc/hallmark/master-key/master.key',
      dataDir: '/var/lib/hallmark',
      mode: 0o440,
    },
    ca: {
      ttlSeconds: 30 * 86_400,
      tickMs: 60_000,
      authorities: [
        { id: 1, status: 'active', ...cert('CN=Hallmark CA', NOW - 2 * DAY, NOW + 28 * DAY) },
      ],
      upstream: undefined,
    },
    accessTokenKeys: {
      slots: [
        {
          kid: 'k1',
          status: 'active',
          createdAt: NOW - 2 * HOUR,
          activatedAt: NOW - 2 * HOUR,
          retiredAt: undefined,
        },
      ],
      schedule,
      tickMs: 30_000,
    },
    jwtAuthorities: {
      slots: [
        {
          kid: 'j1',
          status: 'active',
          createdAt: NOW - 2 * HOUR,
          activatedAt: NOW - 2 * HOUR,
          retiredAt: undefined,
        },
      ],
      schedule: { ...schedule, propagationMs: 300_000 },
      tickMs: 60_000,
    },
    hsm: {
      moduleConfigured: true,
      tokenLabel: 'hallmark',
      sealedKeys: { ca: 0, 'access-token': 0, 'jwt-authority': 0 },
    },
    lifetimes: {
      tokenTtlSeconds: 480,
      jwtSvidTtlSeconds: 300,
      svidTtlSeconds: 3600,
      maxSvidTtlSeconds: 86_400,
      liveSvids: 1,
      longestLiveSvid: {
        serial: '01ab',
        spiffeId: 'spiffe://hallmark.local/ns/demo/sa/app',
        issuedAt: NOW - HOUR,
        notAfter: NOW + 23 * HOUR,
      },
    },
    adminKey: { createdAt: NOW - 10 * DAY, revoked: false },
    broker: {
      password: {
        length: 32,
        lowercase: true,
        uppercase: true,
        digits: true,
        symbols: false,
        distinct: 24,
        containsUsername: false,
      },
    },
    policy: {
      version: 3,
      sha256: 'cd'.repeat(32),
      grants: [
        { subject: 'key:admin', readAll: true, writeAll: true },
        { subject: 'spiffe://hallmark.local/ns/demo/sa/app', readAll: false, writeAll: false },
      ],
      registrations: [
        {
          index: 0,
          namespace: 'demo',
          template: '/ns/{namespace}/sa/{serviceAccount}',
          ttlSeconds: undefined,
          allowForeignPath: false,
          unconfined: false,
        },
      ],
    },
    audit: { ok: true, rows: 120, headSeq: 120 },
    tls: {
      minVersion: 'TLSv1.2',
      ciphers: ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305'],
      certificate: cert('spiffe://hallmark.local/hallmark/server', NOW - HOUR, NOW + 23 * HOUR),
      renewAt: NOW + 11 * HOUR,
    },
    auditSinks: {
      lagAlarmSeconds: 300,
      sinks: [
        { name: 'syslog', deliveredSeq: 120, undeliveredRows: 0, oldestUndeliveredAt: undefined },
      ],
    },
    checkpoints: {
      intervalSeconds: 3600,
      tickMs: 1000,
      latest: { seq: 118, signedAt: NOW - 20 * 60_000 },
      oldestUnsigned: { seq: 119, committedAt: NOW - 10 * 60_000 },
    },
    checkpointKeys: {
      slots: [
        {
          kid: 'c1',
          status: 'active',
          createdAt: NOW - DAY,
          activatedAt: NOW - DAY,
          retiredAt: undefined,
        },
      ],
      schedule: { ...schedule, rotationPeriodMs: 7 * DAY },
      tickMs: 60_000,
    },
    retention: {
      onlineSeconds: 100 * 86_400,
      archiveSeconds: 400 * 86_400,
      archiveDir: '/var/lib/hallmark-audit',
    },
    manifests: deployManifests(),
    dependencies: {
      ran: true,
      tool: 'npm audit --omit=dev',
      auditedAt: NOW,
      packageVersion: '0.1.0',
      lockfileSha256: 'ef'.repeat(32),
      dependencies: 80,
      counts: { info: 0, low: 1, moderate: 0, high: 0, critical: 0 },
      packages: [
        {
          name: 'lowly',
          severity: 'low',
          range: '<1.0.1',
          fixAvailable: true,
          advisories: [],
          through: [],
        },
      ],
    },
  };
}
