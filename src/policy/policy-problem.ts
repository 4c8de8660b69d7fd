// Policy problems: one located complaint about a policy document, and the list that collects them.

/** One thing wrong with a policy document. */
export interface PolicyProblem {
  /** Where, as a property path from the document root: `workloads[2].spiffeId`; `""` is the root. */
  readonly path: string;
  /** What is wrong, for the operator who wrote the document. */
  readonly message: string;
  /** 1-based line in the source text, when known. */
  readonly line?: number;
  /** 1-based column in the source text, when known. */
  readonly column?: number;
}

/** A position in the source text (1-based). */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/**
 * Most problems one error carries: enough for any document a person wrote, small enough that
 * a generated 1 MiB document full of mistakes cannot produce a multi-megabyte error response.
 */
export const MAX_REPORTED_PROBLEMS = 200;

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Appends one step to a property path: `[3]` for an index, `.key` for a plain key and
 * `["app.kubernetes.io/name"]` for any other key, so every path can be read back unambiguously.
 */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (PLAIN_KEY.test(key)) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

/** The path one step up (`a.b[2]` → `a.b`, `a["x.y"]` → `a`), or `undefined` at the root. */
export function parentPath(path: string): string | undefined {
  if (path === '') return undefined;
  const match = /(\[\d+\]|\["(?:[^"\\]|\\.)*"\]|\.[A-Za-z_][A-Za-z0-9_-]*)$/.exec(path);
  return match === null ? '' : path.slice(0, match.index);
}

/** Collects problems in document order, attaching source positions when they are known. */
export class ProblemList {
  private readonly items: PolicyProblem[] = [];
  private dropped = 0;

  constructor(
    private readonly locate: (path: string) => SourcePosition | undefined = () => undefined,
  ) {}

  /**
   * Records that the value at `path` is wrong because of `message`; `at` overrides the
   * position found by looking `path` up (for problems that belong to a key or a token).
   */
  add(path: string, message: string, at?: SourcePosition): void {
    if (this.items.length >= MAX_REPORTED_PROBLEMS) {
      this.dropped++;
      return;
    }
    // A missing key has no position of its own: point at the nearest enclosing value.
    let position = at;
    for (
      let p: string | undefined = path;
      position === undefined && p !== undefined;
      p = parentPath(p)
    ) {
      position = this.locate(p);
    }
    this.items.push(
      position === undefined
        ? { path, message }
        : { path, message, line: position.line, column: position.column },
    );
  }

  /** How many problems have been recorded, listed or not. */
  get count(): number {
    return this.items.length + this.dropped;
  }

  /** True when nothing has been recorded. */
  get isEmpty(): boolean {
    return this.items.length === 0;
  }

  /**
   * The problems in source order (by line, then column; problems without a position last,
   * each group keeping the order it was found in), plus one closing entry counting any that
   * were not listed.
   */
  toArray(): readonly PolicyProblem[] {
    const all = [...this.items].sort(bySourcePosition);
    if (this.dropped > 0) {
      all.push({ path: '', message: `${this.dropped} more problems not listed` });
    }
    return Object.freeze(all.map((p) => Object.freeze(p)));
  }
}

function bySourcePosition(a: PolicyProblem, b: PolicyProblem): number {
  const lineA = a.line ?? Number.MAX_SAFE_INTEGER;
  const lineB = b.line ?? Number.MAX_SAFE_INTEGER;
  if (lineA !== lineB) return lineA - lineB;
  return (a.column ?? Number.MAX_SAFE_INTEGER) - (b.column ?? Number.MAX_SAFE_INTEGER);
}
