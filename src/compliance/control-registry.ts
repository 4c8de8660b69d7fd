// Every control, in report order, and their evaluation over one snapshot.
import { AUTH_CONTROLS } from './auth-controls.js';
import type { Control, ControlVerdict, FrameworkReferences } from './control.js';
import { DEPENDENCY_CONTROLS } from './dependency-controls.js';
import type { InstallationSnapshot } from './installation-snapshot.js';
import { KEY_CONTROLS } from './key-controls.js';
import { LOGGING_CONTROLS } from './logging-controls.js';
import { PRIVILEGE_CONTROLS } from './privilege-controls.js';
import { TRANSPORT_CONTROLS } from './transport-controls.js';

/** Every control Hallmark evaluates; ids are unique and stable. */
export const CONTROLS: readonly Control[] = [
  ...KEY_CONTROLS,
  ...AUTH_CONTROLS,
  ...PRIVILEGE_CONTROLS,
  ...LOGGING_CONTROLS,
  ...TRANSPORT_CONTROLS,
  ...DEPENDENCY_CONTROLS,
];

/** A control's description and its verdict, as reports carry them. */
export interface ControlResult extends ControlVerdict {
  readonly id: string;
  readonly area: Control['area'];
  readonly title: string;
  readonly checks: string;
  readonly references: FrameworkReferences;
  readonly remediation: string;
}

/**
 * Evaluates every control. Pure: the same snapshot always gives the same results. A control
 * whose evaluation throws fails with the error as its reason, so a defect can never read as a
 * pass.
 */
export function evaluateControls(
  snapshot: InstallationSnapshot,
  controls: readonly Control[] = CONTROLS,
): ControlResult[] {
  return controls.map((control) => {
    let verdict: ControlVerdict;
    try {
      verdict = control.evaluate(snapshot);
    } catch (err) {
      verdict = {
        status: 'fail',
        reason: `the control could not be evaluated: ${(err as Error).message}`,
        evidence: {},
      };
    }
    return {
      id: control.id,
      area: control.area,
      title: control.title,
      checks: control.checks,
      references: control.references,
      remediation: control.remediation,
      ...verdict,
    };
  });
}
