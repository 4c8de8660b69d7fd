// Test doubles for the sidecar's I/O points: a scripted credential source, hand-driven timers,
// and a logger that keeps its lines.
import type { Clock } from '../../src/clock/index.js';
import { HallmarkError } from '../../src/errors/index.js';
import type {
  CredentialSource,
  ObtainedSvid,
  ObtainedToken,
  SidecarLogger,
  SvidFiles,
  Timers,
} from '../../sidecar/index.js';

/** A credential source whose lifetimes and failures the test sets. */
export class ScriptedSource implements CredentialSource {
  svidError: Error | undefined;
  tokenError: Error | undefined;
  svidCalls = 0;
  tokenCalls = 0;
  /** The SVID chain the last login presented. */
  lastLoginWith: string | undefined;
  private serial = 0;

  constructor(
    private readonly clock: Clock,
    public svidTtlMs: number,
    public tokenTtlMs: number,
  ) {}

  async obtainSvid(): Promise<ObtainedSvid> {
    this.svidCalls++;
    if (this.svidError) throw this.svidError;
    const n = ++this.serial;
    return {
      files: { chainPem: `chain ${n}`, keyPem: `key ${n}`, bundlePem: 'bundle' },
      spiffeId: 'spiffe://hallmark.local/ns/payments/sa/api',
      expiresAt: this.clock.now() + this.svidTtlMs,
    };
  }

  async obtainToken(svid: SvidFiles): Promise<ObtainedToken> {
    this.tokenCalls++;
    this.lastLoginWith = svid.chainPem;
    if (this.tokenError) throw this.tokenError;
    return { token: `token ${this.tokenCalls}`, expiresAt: this.clock.now() + this.tokenTtlMs };
  }
}

/** The server is down: what the HTTPS adapter reports for ECONNREFUSED. */
export function unreachable(): HallmarkError {
  return new HallmarkError('ERR_SIDECAR_SERVER_UNREACHABLE', { detail: 'ECONNREFUSED' });
}

/** Timers the test fires by hand; at most one is pending in the refresh loop. */
export class ManualTimers implements Timers {
  readonly pending = new Map<number, { due: number; callback: () => void }>();
  private next = 1;

  constructor(private readonly clock: Clock) {}

  set(callback: () => void, delayMs: number): unknown {
    const id = this.next++;
    this.pending.set(id, { due: this.clock.now() + delayMs, callback });
    return id;
  }

  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** The earliest pending timer. */
  earliest(): { id: number; due: number; callback: () => void } | undefined {
    let found: { id: number; due: number; callback: () => void } | undefined;
    for (const [id, timer] of this.pending)
      if (!found || timer.due < found.due) found = { id, ...timer };
    return found;
  }
}

/** One kept log line. */
export interface LogLine {
  level: 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

/** A logger that keeps every line. */
export class MemoryLogger implements SidecarLogger {
  readonly lines: LogLine[] = [];
  info(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'info', fields, message });
  }
  warn(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'warn', fields, message });
  }
  error(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'error', fields, message });
  }
  /** The `phase` field of every phase-change line, in order. */
  phases(): unknown[] {
    return this.lines.filter((l) => 'phase' in l.fields).map((l) => l.fields.phase);
  }
}
