// Where a V8 CPU profile (`node --cpu-prof`) spent its time: self and inclusive time per
// function and per owner (a package, a source file, Node.js itself), over the busiest window.

/** The parts of a `.cpuprofile` this reads. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  startTime: number;
  endTime: number;
  samples: number[];
  /** Microseconds since the previous sample (the first since `startTime`). */
  timeDeltas: number[];
}

/** One line of the summary: a name and the share of the window's busy samples. */
export interface Share {
  name: string;
  /** Fraction of the busy (non-idle) samples in the window. */
  self: number;
  /** Fraction of busy samples with it anywhere on the stack. */
  inclusive: number;
}

/** What the profile says about one window. */
export interface ProfileSummary {
  /** Seconds from the profile's start to the window's. */
  fromSeconds: number;
  seconds: number;
  /** Fraction of the window's samples that were not idle. */
  busy: number;
  functions: Share[];
  owners: Share[];
}

const IDLE = '(idle)';

/**
 * Who owns a frame: `pkg:<name>` for a dependency, the repository path for our sources,
 * `node:<module>` for Node.js internals, and the frame's own name for native and V8 frames
 * (`(garbage collector)`, `(program)`, native bindings such as `writev`).
 */
export function ownerOf(frame: { functionName: string; url: string }): string {
  const { url } = frame;
  if (url === '') return frame.functionName || '(anonymous native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return `pkg:${pkg[1]}`;
  if (url.startsWith('node:'))
    return url.replace(/^node:(internal\/)?/, 'node:').split('/')[0] as string;
  const source = /\/((?:src|broker|sidecar|bin)\/.*)$/.exec(url);
  return source ? (source[1] as string) : url;
}

/** The sample times (µs from the profile start) in order. */
function sampleTimes(profile: CpuProfile): number[] {
  let t = 0;
  return profile.timeDeltas.map((delta) => (t += delta));
}

/**
 * Summarises the `seconds`-long window with the most busy samples (or the whole profile when
 * it is shorter): what each function and owner cost, themselves and with their callees.
 */
export function summarizeProfile(profile: CpuProfile, seconds: number): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const times = sampleTimes(profile);
  const isBusy = profile.samples.map((id) => byId.get(id)?.callFrame.functionName !== IDLE);
  // The window: two pointers over the samples, keeping the start with the most busy ones.
  const width = seconds * 1e6;
  let best = { from: 0, to: profile.samples.length, busy: -1 };
  let busyInWindow = 0;
  let from = 0;
  for (let to = 0; to < profile.samples.length; to++) {
    if (isBusy[to]) busyInWindow++;
    while ((times[to] as number) - (times[from] as number) > width) {
      if (isBusy[from]) busyInWindow--;
      from++;
    }
    if (busyInWindow > best.busy) best = { from, to: to + 1, busy: busyInWindow };
  }
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const ownerSelf = new Map<string, number>();
  const ownerInclusive = new Map<string, number>();
  const add = (map: Map<string, number>, key: string): void => {
    map.set(key, (map.get(key) ?? 0) + 1);
  };
  for (let i = best.from; i < best.to; i++) {
    if (!isBusy[i]) continue;
    const leaf = byId.get(profile.samples[i] as number);
    if (leaf === undefined) continue;
    add(self, functionLabel(leaf.callFrame));
    add(ownerSelf, ownerOf(leaf.callFrame));
    const functions = new Set<string>();
    const owners = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const frame = (byId.get(id) as CpuProfile['nodes'][number]).callFrame;
      if (frame.functionName === '(root)') continue;
      functions.add(functionLabel(frame));
      owners.add(ownerOf(frame));
    }
    for (const name of functions) add(inclusive, name);
    for (const name of owners) add(ownerInclusive, name);
  }
  const total = Math.max(1, best.busy);
  const shares = (selfMap: Map<string, number>, inclusiveMap: Map<string, number>): Share[] =>
    [...inclusiveMap.keys()]
      .map((name) => ({
        name,
        self: (selfMap.get(name) ?? 0) / total,
        inclusive: (inclusiveMap.get(name) ?? 0) / total,
      }))
      .sort((a, b) => b.self - a.self);
  const first = times[best.from] ?? 0;
  const last = times[Math.max(best.from, best.to - 1)] ?? 0;
  return {
    fromSeconds: first / 1e6,
    seconds: (last - first) / 1e6,
    busy: best.busy / Math.max(1, best.to - best.from),
    functions: shares(self, inclusive),
    owners: shares(ownerSelf, ownerInclusive),
  };
}

function functionLabel(frame: { functionName: string; url: string; lineNumber: number }): string {
  const owner = ownerOf(frame);
  const name = frame.functionName || '(anonymous)';
  return owner === name ? name : `${name} ${owner}:${frame.lineNumber + 1}`;
}
