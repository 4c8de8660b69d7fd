import { describe, expect, it } from 'vitest';
import { verifyChain, type AuditRecord } from '../../src/audit/index.js';
import { MemoryAuditLog } from '../doubles/memory-audit-log.js';
import { ManualClock } from '../doubles/manual-clock.js';

async function chainOf(n: number): Promise<AuditRecord[]> {
  const log = new MemoryAuditLog(new ManualClock());
  for (let i = 0; i < n; i++) {
    await log.append({
      actor: 'key:admin',
      action: 'secret.write',
      target: `app/s${i}`,
      outcome: 'success',
    });
  }
  return log.records;
}

function headOf(rows: AuditRecord[]) {
  const last = rows.at(-1) as AuditRecord;
  return { seq: last.seq, hash: last.hash };
}

describe('audit chain verification (pure)', () => {
  it('accepts an intact chain', async () => {
    const rows = await chainOf(10);
    expect(verifyChain(rows, headOf(rows))).toMatchObject({ ok: true, rows: 10 });
  });

  it('names the edited row', async () => {
    const rows = await chainOf(10);
    const head = headOf(rows);
    rows[4] = { ...(rows[4] as AuditRecord), outcome: 'denied' };
    expect(verifyChain(rows, head)).toMatchObject({ ok: false, seq: 5 });
  });

  it('names the deleted row', async () => {
    const rows = await chainOf(10);
    const head = headOf(rows);
    rows.splice(6, 1);
    expect(verifyChain(rows, head)).toMatchObject({ ok: false, seq: 7 });
  });

  it('detects a truncated tail through the head', async () => {
    const rows = await chainOf(10);
    const head = headOf(rows);
    expect(verifyChain(rows.slice(0, 8), head)).toMatchObject({ ok: false, seq: 9 });
  });

  it('detects rows whose contents were swapped', async () => {
    const rows = await chainOf(10);
    const head = headOf(rows);
    const a = rows[2] as AuditRecord;
    const b = rows[3] as AuditRecord;
    rows[2] = { ...b, seq: a.seq };
    rows[3] = { ...a, seq: b.seq };
    expect(verifyChain(rows, head)).toMatchObject({ ok: false, seq: 3 });
  });

  it('fails closed when the log is unavailable', async () => {
    const log = new MemoryAuditLog(new ManualClock());
    log.failing = true;
    await expect(
      log.append({ actor: 'a', action: 'secret.read', target: 'c', outcome: 'success' }),
    ).rejects.toMatchObject({ code: 'ERR_AUDIT_UNAVAILABLE' });
  });
});
