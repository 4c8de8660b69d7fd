// Logging and monitoring controls: the audit chain's integrity, checkpoints, shipping and retention.
import { describeSeconds, fail, isoTime, pass, type Control, type Evidence } from './control.js';

/** The most a sink's lag alarm may be set to and still count as "promptly" backed up. */
export const MAX_SINK_LAG_ALARM_SECONDS = 3600;
/** Audit history kept at least this long (PCI DSS v4.0 10.5.1: 12 months). */
export const MIN_RETENTION_SECONDS = 365 * 86_400;
/** ...of which at least this much immediately available (10.5.1: three months). */
export const MIN_ONLINE_SECONDS = 90 * 86_400;

const auditChain: Control = {
  id: 'HM-LOG-01',
  area: 'logging-monitoring',
  title: 'Audit chain intact',
  checks:
    'Every row of the audit log verifies against the hash chain (hash = SHA-256(prev_hash, canonical row)) from the first row to the stored head, in one pass: an edited, deleted, inserted, reordered or truncated row fails and is named by seq.',
  references: {
    pciDss: ['10.2.1', '10.3.2', '10.3.4'],
    soc2: ['CC7.2'],
    nist80053: ['AU-9', 'AU-12'],
  },
  remediation:
    'Treat as a security incident: compare the named row with the copies shipped to the audit sinks and backups, find who had write access to PostgreSQL, and preserve the database for investigation. hallmark audit verify gives the same verdict offline.',
  evaluate({ audit }) {
    if (!audit.ok) {
      return fail(`the audit chain is broken at seq ${audit.seq}: ${audit.problem}`, {
        rowsVerified: audit.rows,
        brokenAt: audit.seq,
        problem: audit.problem,
      });
    }
    return pass(`${audit.rows} audit rows verify up to head seq ${audit.headSeq}`, {
      rowsVerified: audit.rows,
      headSeq: audit.headSeq,
    });
  },
};

const checkpointsRecent: Control = {
  id: 'HM-LOG-02',
  area: 'logging-monitoring',
  title: 'Signed audit checkpoints are recent',
  checks:
    'Every audit row committed longer ago than two checkpoint intervals (HALLMARK_AUDIT_CHECKPOINT_INTERVAL) plus two checkpointer ticks is covered by a checkpoint of the chain head signed by the audit checkpoint key, so an attacker who rewrites the whole table and recomputes every hash is still detected. A head that has not moved needs no new checkpoint.',
  references: {
    pciDss: ['10.3.4'],
    soc2: ['CC7.2'],
    nist80053: ['AU-9(3)', 'AU-10'],
  },
  remediation:
    'Check the server log for "audit checkpoint" failures, the database connection and the checkpoint key (HM-KEY-07); hallmark audit verify names the rows no checkpoint covers.',
  evaluate({ checkpoints, now }) {
    if (checkpoints === undefined) {
      return fail(
        'this server makes no signed audit checkpoints: a rewrite of the whole table with recomputed hashes would not be detected',
        { checkpoints: null },
      );
    }
    const { latest, oldestUnsigned } = checkpoints;
    const boundMs = 2 * checkpoints.intervalSeconds * 1000 + 2 * checkpoints.tickMs;
    const evidence: Evidence = {
      interval: describeSeconds(checkpoints.intervalSeconds),
      bound: describeSeconds(boundMs / 1000),
      latestSeq: latest?.seq ?? null,
      latestSignedAt: latest === undefined ? null : isoTime(latest.signedAt),
      oldestUnsignedSeq: oldestUnsigned?.seq ?? null,
      oldestUnsignedAt: oldestUnsigned === undefined ? null : isoTime(oldestUnsigned.committedAt),
    };
    if (oldestUnsigned !== undefined && now - oldestUnsigned.committedAt > boundMs) {
      const age = describeSeconds(Math.round((now - oldestUnsigned.committedAt) / 1000));
      return fail(
        latest === undefined
          ? `no audit checkpoint has been signed, and row ${oldestUnsigned.seq} was committed ${age} ago`
          : `row ${oldestUnsigned.seq}, committed ${age} ago, is not covered by a checkpoint: the newest (seq ${latest.seq}) was signed at ${isoTime(latest.signedAt)}`,
        evidence,
      );
    }
    return pass(
      latest === undefined
        ? 'no row is older than the bound yet; no checkpoint was due'
        : `the newest checkpoint (seq ${latest.seq}) covers every row older than ${describeSeconds(boundMs / 1000)}`,
      evidence,
    );
  },
};

const auditShipping: Control = {
  id: 'HM-LOG-03',
  area: 'logging-monitoring',
  title: 'Audit rows shipped to a central receiver promptly',
  checks: `At least one audit sink is configured (HALLMARK_AUDIT_SYSLOG or HALLMARK_AUDIT_WEBHOOK), its lag alarm (HALLMARK_AUDIT_SINK_LAG_ALARM) is at most ${describeSeconds(MAX_SINK_LAG_ALARM_SECONDS)}, and no row committed longer ago than that alarm is still unconfirmed by any sink's receiver.`,
  references: {
    pciDss: ['10.3.3', '10.4.1.1', '10.7.2'],
    soc2: ['CC7.2', 'CC7.3'],
    nist80053: ['AU-4(1)', 'AU-5', 'AU-6(3)'],
  },
  remediation:
    'Configure a sink to your SIEM (docs/audit.md: HALLMARK_AUDIT_SYSLOG=tls://host:6514 or HALLMARK_AUDIT_WEBHOOK), keep HALLMARK_AUDIT_SINK_LAG_ALARM at 1h or less; for a lagging sink check the receiver, the network and hallmark_audit_sink_errors_total.',
  evaluate({ auditSinks, now }) {
    const evidence: Evidence = {
      lagAlarm: describeSeconds(auditSinks.lagAlarmSeconds),
      sinks: auditSinks.sinks.map((sink) => ({
        name: sink.name,
        deliveredSeq: sink.deliveredSeq ?? null,
        undeliveredRows: sink.undeliveredRows,
        oldestUndeliveredAt:
          sink.oldestUndeliveredAt === undefined ? null : isoTime(sink.oldestUndeliveredAt),
      })),
    };
    if (auditSinks.sinks.length === 0) {
      return fail(
        'no audit sink is configured: audit rows exist only in this PostgreSQL database (and stdout)',
        evidence,
      );
    }
    if (auditSinks.lagAlarmSeconds > MAX_SINK_LAG_ALARM_SECONDS) {
      return fail(
        `HALLMARK_AUDIT_SINK_LAG_ALARM is ${describeSeconds(auditSinks.lagAlarmSeconds)}, above ${describeSeconds(MAX_SINK_LAG_ALARM_SECONDS)}`,
        evidence,
      );
    }
    const lagging = auditSinks.sinks.filter(
      (sink) =>
        sink.oldestUndeliveredAt !== undefined &&
        now - sink.oldestUndeliveredAt > auditSinks.lagAlarmSeconds * 1000,
    );
    if (lagging.length > 0) {
      return fail(
        lagging
          .map(
            (sink) =>
              `sink ${sink.name} has ${sink.undeliveredRows} undelivered row(s), the oldest committed ${describeSeconds(Math.round((now - (sink.oldestUndeliveredAt as number)) / 1000))} ago`,
          )
          .join('; '),
        evidence,
      );
    }
    return pass(
      `${auditSinks.sinks.length} sink(s) within ${describeSeconds(auditSinks.lagAlarmSeconds)} of the chain`,
      evidence,
    );
  },
};

const retention: Control = {
  id: 'HM-LOG-04',
  area: 'logging-monitoring',
  title: 'Audit history retained 12 months, 3 immediately available',
  checks: `An audit retention policy is configured and enforced: rows stay in PostgreSQL at least ${describeSeconds(MIN_ONLINE_SECONDS)} (HALLMARK_AUDIT_RETENTION_ONLINE; unset: never archived) and are kept at least ${describeSeconds(MIN_RETENTION_SECONDS)} in all, counted from their commit, in PostgreSQL or in the segments written to HALLMARK_AUDIT_ARCHIVE_DIR (HALLMARK_AUDIT_ARCHIVE_RETENTION). A retention declared without an archive directory is no archive.`,
  references: {
    pciDss: ['10.5.1'],
    soc2: ['CC7.2'],
    nist80053: ['AU-11'],
  },
  remediation:
    'Set HALLMARK_AUDIT_ARCHIVE_DIR to a durable volume shared by the replicas (and backed up), HALLMARK_AUDIT_RETENTION_ONLINE to 90d or more (older rows are archived there and deleted from PostgreSQL automatically) and HALLMARK_AUDIT_ARCHIVE_RETENTION to 365d or more; keep the segments that long (Hallmark never deletes them) and check them with hallmark audit verify --archive DIR.',
  evaluate({ retention: facts }) {
    if (facts === undefined) {
      return fail(
        'this server has no audit archive or retention policy: nothing says how long rows are kept or where their copies are (HALLMARK_AUDIT_RETENTION_ONLINE, HALLMARK_AUDIT_ARCHIVE_RETENTION)',
        { retention: null },
      );
    }
    const online = facts.onlineSeconds;
    const archive = facts.archiveSeconds;
    const evidence: Evidence = {
      online: online === undefined ? 'forever' : describeSeconds(online),
      archive: archive === undefined ? 'none' : describeSeconds(archive),
      archiveDir: facts.archiveDir ?? null,
    };
    if (online !== undefined && online < MIN_ONLINE_SECONDS) {
      return fail(
        `rows stay in PostgreSQL only ${describeSeconds(online)}, under ${describeSeconds(MIN_ONLINE_SECONDS)}`,
        evidence,
      );
    }
    // Both periods count from a row's commit: the archive keeps a row until it is that old.
    const total = online === undefined ? Infinity : Math.max(online, archive ?? 0);
    if (total < MIN_RETENTION_SECONDS) {
      return fail(
        archive === undefined
          ? `rows are archived after ${describeSeconds(online as number)} but no archive retention applies (${facts.archiveDir === undefined ? 'no archive directory' : 'HALLMARK_AUDIT_ARCHIVE_RETENTION unset'}): rows are kept ${describeSeconds(total)} in all, under ${describeSeconds(MIN_RETENTION_SECONDS)}`
          : `rows are kept ${describeSeconds(total)} in all, under ${describeSeconds(MIN_RETENTION_SECONDS)}`,
        evidence,
      );
    }
    return pass(
      online === undefined
        ? 'rows are never archived automatically: all of them stay in PostgreSQL'
        : `rows stay ${describeSeconds(online)} in PostgreSQL and ${describeSeconds(total)} in all (archive ${facts.archiveDir ?? 'none'})`,
      evidence,
    );
  },
};

/** The logging and monitoring controls, in id order. */
export const LOGGING_CONTROLS: readonly Control[] = [
  auditChain,
  checkpointsRecent,
  auditShipping,
  retention,
];
