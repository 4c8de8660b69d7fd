// Phase changes: the one log line (and event) per change of the sidecar's phase, never per retry.
import type { ErrorCode } from '../src/errors/index.js';
import type { SidecarPhase } from './refresh-schedule.js';

/** The sidecar's log sink; pino's `Logger` satisfies it. Never given tokens or keys. */
export interface SidecarLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** How a change is named in logs: `recovered` is `ready` reached from a failing phase. */
export type PhaseLabel = 'starting' | 'ready' | 'recovered' | 'degraded' | 'expired';

/** One change of phase, as emitted to listeners. */
export interface PhaseChange {
  readonly from: SidecarPhase | undefined;
  readonly to: SidecarPhase;
  readonly label: PhaseLabel;
  /** Time of the change (ms). */
  readonly at: number;
  /** Code of the latest failure when the change is caused by failing refreshes. */
  readonly code: ErrorCode | undefined;
}

/** Names a change: `recovered` for degraded/expired → ready, else the new phase. */
export function labelOf(from: SidecarPhase | undefined, to: SidecarPhase): PhaseLabel {
  return to === 'ready' && (from === 'degraded' || from === 'expired') ? 'recovered' : to;
}

/** The log line of a change, and its level. */
export function describePhaseChange(change: PhaseChange): {
  level: 'info' | 'warn' | 'error';
  message: string;
} {
  const code = change.code ?? 'unknown error';
  switch (change.label) {
    case 'starting':
      return { level: 'info', message: 'sidecar starting: obtaining an SVID and an access token' };
    case 'ready':
      return {
        level: 'info',
        message: 'sidecar ready: svid.pem, svid-key.pem, bundle.pem and access-token written',
      };
    case 'recovered':
      return { level: 'info', message: 'sidecar recovered: credentials refreshed again' };
    case 'degraded':
      return {
        level: 'warn',
        message: `sidecar degraded (refresh failing, ${code}): keeping the current files, retrying with backoff`,
      };
    case 'expired':
      return {
        level: 'error',
        message: `sidecar expired (refresh failing, ${code}): credentials expired, an expired access-token is removed, reporting unhealthy`,
      };
  }
}
