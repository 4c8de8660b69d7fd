// Runs a parsed Sigma file over events in time order, streaming: each matching event once.
import type { HuntPlan } from './sigma-rule.js';

type Event = Record<string, unknown> & { time: number; metadata: { uid: string } };

function field(event: unknown, path: string): string {
  let value: unknown = event;
  for (const key of path.split('.'))
    value =
      value !== null && typeof value === 'object'
        ? (value as Record<string, unknown>)[key]
        : undefined;
  return value === undefined ? '' : JSON.stringify(value);
}

/**
 * Feed events oldest first; `push` returns the events to report now. A rule reports each
 * event it matches. An event_count correlation keeps, per group-by value, the events of the
 * last `timespan`; when their count reaches the threshold it reports them (each event once).
 */
export class Hunt {
  readonly #windows = new Map<string, Event[]>();
  readonly #reported = new Set<string>();

  constructor(private readonly plan: HuntPlan) {}

  push(event: Event): Event[] {
    if (this.plan.kind === 'rule') return this.plan.rule.matches(event) ? [event] : [];
    const c = this.plan.correlation;
    if (!c.rules.some((rule) => rule.matches(event))) return [];
    const key = c.groupBy.map((path) => field(event, path)).join('\u0000');
    const window = (this.#windows.get(key) ?? []).filter((e) => event.time - e.time < c.timespanMs);
    window.push(event);
    this.#windows.set(key, window);
    if (window.length < c.atLeast) return [];
    const fresh = window.filter((e) => !this.#reported.has(e.metadata.uid));
    for (const e of fresh) this.#reported.add(e.metadata.uid);
    return fresh;
  }
}
