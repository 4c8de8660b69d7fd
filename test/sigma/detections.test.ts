import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PgAuditLog, type AuditEvent } from '../../src/audit/index.js';
import { auditCommand } from '../../src/cli/audit-command.js';
import { UsageError } from '../../src/cli/command.js';
import type { Database } from '../../src/db/index.js';
import { createMigratedDatabase } from '../helpers/database.js';
import { ManualClock } from '../doubles/manual-clock.js';

const DIR = path.resolve(import.meta.dirname, '../../detections');

/** Runs `hallmark audit hunt` in-process against a database holding `rows`. */
async function hunt(
  rule: string,
  rows: Partial<AuditEvent>[],
  extra: string[] = [],
  start = Date.parse('2026-03-02T12:00:00.000Z'),
): Promise<{ code: number; events: Record<string, unknown>[]; err: string }> {
  const { url, db } = await createMigratedDatabase();
  try {
    const clock = new ManualClock(start);
    const audit = new PgAuditLog(db, clock);
    for (const row of rows) {
      await audit.append({
        actor: 'spiffe://td/ns/a/sa/web',
        action: 'secret.read',
        target: 'app/db@v1',
        outcome: 'success',
        ...row,
      } as AuditEvent);
      clock.advance(1_000);
    }
    const out: string[] = [];
    const err: string[] = [];
    let code: number;
    try {
      code = await auditCommand.run(['hunt', path.join(DIR, rule), ...extra], {
        out: (l) => out.push(l),
        err: (l) => err.push(l),
        env: { DATABASE_URL: url },
        stdin: process.stdin,
      });
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      code = 2; // what the CLI's entry point exits with
    }
    return {
      code,
      events: out.map((l) => JSON.parse(l) as Record<string, unknown>),
      err: err.join('\n'),
    };
  } finally {
    await (db as Database).close();
  }
}

const denied = (actor: string): Partial<AuditEvent> => ({
  actor,
  action: 'secret.denied',
  target: 'read app/db',
  outcome: 'denied',
  reason: 'ERR_POLICY_DENIED',
});

describe('shipped Sigma detections, run by `hallmark audit hunt`', () => {
  it('burst of refusals: fires on 10 in a minute for one identity, not on 9, nor 10 spread over identities', async () => {
    const fired = await hunt(
      'mr_hallmark_denial_burst.yml',
      Array.from({ length: 10 }, () => denied('key:probe')),
    );
    expect(fired.code).toBe(0);
    expect(fired.events).toHaveLength(10);
    expect(fired.events[0]).toMatchObject({ actor: { user: { uid: 'key:probe' } }, status_id: 2 });
    const quiet = await hunt('mr_hallmark_denial_burst.yml', [
      ...Array.from({ length: 9 }, () => denied('key:probe')),
      ...Array.from({ length: 5 }, (_, i) => denied(`key:other${i}`)),
    ]);
    expect(quiet.code).toBe(1);
    expect(quiet.events).toEqual([]);
  });

  it('credential used after pod deletion: fires on ERR_AUTHN_POD_GONE only', async () => {
    const gone = {
      action: 'authn.login',
      outcome: 'denied',
      reason: 'ERR_AUTHN_POD_GONE',
      target: 'serial=0a',
    } as const;
    expect(
      (await hunt('hallmark_credential_used_after_pod_deletion.yml', [{}, gone])).events,
    ).toHaveLength(1);
    const other = { ...gone, reason: 'ERR_AUTHN_CLIENT_CERT_INVALID' };
    expect((await hunt('hallmark_credential_used_after_pod_deletion.yml', [other])).code).toBe(1);
  });

  it('login with a distrusted CA: fires on an Authentication refusal with ERR_AUTHN_CA_DISTRUSTED', async () => {
    const row = {
      action: 'authn.login',
      outcome: 'denied',
      reason: 'ERR_AUTHN_CA_DISTRUSTED',
    } as const;
    expect((await hunt('hallmark_login_with_distrusted_ca.yml', [row])).events).toHaveLength(1);
    expect(
      (await hunt('hallmark_login_with_distrusted_ca.yml', [{ ...row, action: 'secret.read' }]))
        .code,
    ).toBe(1);
  });

  it('break-glass read: fires when the admin key reads a secret, not for a workload or a refused admin', async () => {
    const fired = await hunt('hallmark_break_glass_secret_read.yml', [{ actor: 'key:admin' }]);
    expect(fired.events).toHaveLength(1);
    const quiet = await hunt('hallmark_break_glass_secret_read.yml', [
      {},
      { actor: 'key:admin', action: 'secret.write', target: 'app/db@v2' },
      { ...denied('key:admin') },
    ]);
    expect(quiet.code).toBe(1);
  });

  it('policy change outside the window: needs the window, fires outside it only', async () => {
    const load = { actor: 'key:admin', action: 'policy.load', target: 'policy@3' } as const;
    const window = [
      '--placeholder',
      'change_window=*T09:*,*T10:*,*T11:*,*T12:*,*T13:*,*T14:*,*T15:*,*T16:*',
    ];
    const noWindow = await hunt('hallmark_policy_change_outside_window.yml', [load]);
    expect(noWindow.code).toBe(2);
    const night = await hunt(
      'hallmark_policy_change_outside_window.yml',
      [load],
      window,
      Date.parse('2026-03-02T23:30:00Z'),
    );
    expect(night.events).toHaveLength(1);
    const day = await hunt(
      'hallmark_policy_change_outside_window.yml',
      [load],
      window,
      Date.parse('2026-03-02T13:30:00Z'),
    );
    expect(day.code).toBe(1);
  });

  it('CA rotation or distrust: fires on prepared, activated and distrust; not on creation', async () => {
    const rows = ['ca.prepared', 'ca.activated', 'ca.distrust'].map((action) => ({
      actor: 'system',
      action,
      target: 'spiffe://td',
    })) as Partial<AuditEvent>[];
    expect((await hunt('hallmark_ca_rotation_or_distrust.yml', rows)).events).toHaveLength(3);
    expect(
      (
        await hunt('hallmark_ca_rotation_or_distrust.yml', [
          { actor: 'system', action: 'ca.created', target: 'spiffe://td' },
        ])
      ).code,
    ).toBe(1);
  });

  it('cross-namespace binding: fires when the granted workload is of another namespace', async () => {
    const bind = (ns: string): Partial<AuditEvent> => ({
      actor: 'osb:kubernetes:username=alice',
      action: 'osb.bind',
      target: `osb/i-1/bindings/b-1 identity=spiffe://td/ns/${ns}/sa/web namespace=team-a`,
    });
    expect(
      (await hunt('hallmark_cross_namespace_binding.yml', [bind('payments')])).events,
    ).toHaveLength(1);
    const quiet = await hunt('hallmark_cross_namespace_binding.yml', [
      bind('team-a'),
      { ...bind('x'), target: 'osb/i-1/bindings/b-2 identity=key:osb-b-2.abc' },
    ]);
    expect(quiet.code).toBe(1);
  });

  it('sink lag or gap: fires on the alarm rows only', async () => {
    const alarm = {
      actor: 'system',
      action: 'audit.sink.gap',
      target: 'sink=syslog missing=5-9',
      outcome: 'error',
      reason: 'ERR_AUDIT_SINK_GAP',
    } as const;
    expect((await hunt('hallmark_audit_sink_lag_or_gap.yml', [{}, alarm])).events).toHaveLength(1);
    expect(
      (
        await hunt('hallmark_audit_sink_lag_or_gap.yml', [
          {},
          {
            actor: 'key:admin',
            action: 'audit.read',
            target: 'audit',
            outcome: 'denied',
            reason: 'ERR_AUTHN_NOT_ADMIN',
          },
        ])
      ).code,
    ).toBe(1);
  });

  it('--since leaves older rows out', async () => {
    const rows = Array.from({ length: 3 }, () => ({ actor: 'key:admin' }));
    const all = await hunt(
      'hallmark_break_glass_secret_read.yml',
      rows,
      [],
      Date.now() - 3_600_000,
    );
    expect(all.events).toHaveLength(3);
    const recent = await hunt(
      'hallmark_break_glass_secret_read.yml',
      rows,
      ['--since', '30m'],
      Date.now() - 3_600_000,
    );
    expect(recent.code).toBe(1);
  });
});
