// Secret path patterns in grants: an exact path, `prefix/*` (everything below prefix), or `*`.
import { secretPathReason } from '../secrets/index.js';

/** A parsed path pattern. */
export type PathPattern =
  | { readonly kind: 'all' }
  | { readonly kind: 'exact'; readonly path: string }
  /** `prefix` ends with `/`: `payments/*` is stored as `payments/`. */
  | { readonly kind: 'below'; readonly prefix: string };

/** The result of parsing a pattern: the pattern, or why it was refused. */
export type PathPatternParse =
  | { readonly ok: true; readonly pattern: PathPattern }
  | { readonly ok: false; readonly reason: string };

/**
 * Parses a grant's path pattern. `*` alone matches every path; `a/b/*` matches every path
 * strictly below `a/b` (not `a/b` itself, not `a/bc`); anything else is an exact secret path.
 * `*` anywhere else is refused rather than read literally, so `pay*` cannot be mistaken for
 * a prefix match.
 */
export function parsePathPattern(text: string): PathPatternParse {
  if (text === '*') return { ok: true, pattern: { kind: 'all' } };
  const below = text.endsWith('/*');
  const base = below ? text.slice(0, -2) : text;
  if (base.includes('*')) {
    return {
      ok: false,
      reason: '"*" is only allowed as a whole last segment ("prefix/*") or alone',
    };
  }
  if (below && base === '')
    return { ok: false, reason: 'prefix is empty (write "*" for every path)' };
  const reason = secretPathReason(base);
  if (reason !== undefined) return { ok: false, reason };
  return {
    ok: true,
    pattern: below ? { kind: 'below', prefix: `${base}/` } : { kind: 'exact', path: base },
  };
}
