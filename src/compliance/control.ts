// A compliance control: what it checks, which framework requirements it supports, and its verdict.
import type { InstallationSnapshot } from './installation-snapshot.js';

/** The outcome of one control. */
export type ControlStatus = 'pass' | 'fail' | 'not-applicable';

/** A value seen while evaluating: never a secret, a key or a credential. */
export type EvidenceValue =
  | string
  | number
  | boolean
  | null
  | readonly EvidenceValue[]
  | { readonly [name: string]: EvidenceValue };

/** The values a control saw, by name. */
export type Evidence = Readonly<Record<string, EvidenceValue>>;

/**
 * Requirement identifiers a control supports, as each framework numbers them: PCI DSS v4.0
 * requirement numbers, SOC 2 Trust Services Criteria (2017, revised points of focus 2022) and
 * NIST SP 800-53 Rev. 5 control identifiers.
 */
export interface FrameworkReferences {
  readonly pciDss: readonly string[];
  readonly soc2: readonly string[];
  readonly nist80053: readonly string[];
}

/** The areas controls are grouped in, in report order. */
export const CONTROL_AREAS = [
  'key-management',
  'authentication',
  'least-privilege',
  'logging-monitoring',
  'transport',
  'vulnerability-management',
] as const;

/** One of {@link CONTROL_AREAS}. */
export type ControlArea = (typeof CONTROL_AREAS)[number];

/** What a control concluded, and why. */
export interface ControlVerdict {
  readonly status: ControlStatus;
  /** One sentence: the cause of a failure, why it does not apply, or what passed. */
  readonly reason: string;
  readonly evidence: Evidence;
}

/** A control: fixed text and references, and a pure evaluation over a snapshot. */
export interface Control {
  /** Stable identifier (`HM-KEY-01`); never reused for another check. */
  readonly id: string;
  readonly area: ControlArea;
  readonly title: string;
  /** What is checked, precisely enough for an assessor to re-perform it. */
  readonly checks: string;
  readonly references: FrameworkReferences;
  /** What to change when the control fails. */
  readonly remediation: string;
  evaluate(snapshot: InstallationSnapshot): ControlVerdict;
}

/** A passing verdict. */
export function pass(reason: string, evidence: Evidence): ControlVerdict {
  return { status: 'pass', reason, evidence };
}

/** A failing verdict; `reason` names the cause. */
export function fail(reason: string, evidence: Evidence): ControlVerdict {
  return { status: 'fail', reason, evidence };
}

/** A verdict for a control that does not apply to this installation; `reason` says why. */
export function notApplicable(reason: string, evidence: Evidence = {}): ControlVerdict {
  return { status: 'not-applicable', reason, evidence };
}

/** Milliseconds as an ISO-8601 UTC time, for evidence. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * A duration in seconds for evidence: the largest unit that divides it (`90000` → `25h`), else
 * the largest unit and the next, rounded down (`8640123` → `100d`, `9000` → `2h 30m`).
 */
export function describeSeconds(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const units = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const;
  if (whole < 60) return `${whole}s`;
  for (const [unit, size] of units.slice(0, 3)) {
    if (whole >= size && whole % size === 0) return `${whole / size}${unit}`;
  }
  const index = units.findIndex(([, size]) => whole >= size);
  const [unit, size] = units[index]!;
  const [nextUnit, nextSize] = units[index + 1] ?? units[index]!;
  const rest = Math.floor((whole % size) / nextSize);
  return `${Math.floor(whole / size)}${unit}${rest > 0 ? ` ${rest}${nextUnit}` : ''}`;
}
