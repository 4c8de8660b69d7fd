// Corpus: hostile policy documents on PUT /v1/policy — oversized, deeply nested, alias bombs,
// tags, directives, several documents — each refused whole, leaving the policy in force.
import { describe } from 'vitest';
import { refusalCorpus, type RefusalCase } from './refusal.js';
import { SECURITY_POLICY } from './security-stack.js';

const MIB = 1024 * 1024;

/** PUT /v1/policy as the admin; every case is the admin's, so only the document is at fault. */
const policy = (
  name: string,
  document: string,
  options: { contentType?: string | null; status?: number; code?: RefusalCase['code'] } = {},
): RefusalCase => ({
  name,
  request: (fx) => ({
    method: 'PUT',
    path: '/v1/policy',
    headers: {
      authorization: `Bearer ${fx.adminToken}`,
      ...(options.contentType === null
        ? {}
        : { 'content-type': options.contentType ?? 'application/yaml' }),
    },
    raw: document,
  }),
  status: options.status ?? 422,
  code: options.code ?? 'ERR_POLICY_INVALID',
});

/** The classic billion laughs: 9 levels of 9 aliases each, 9^9 strings if expanded. */
const BILLION_LAUGHS = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((name, i) => {
    const prev = 'abcdefghi'[i];
    return `${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`;
  }),
  'workloads: *i',
].join('\n');

/** A valid policy whose grants list is aliased 101 times (one over the alias limit). */
const ALIAS_FLOOD = `${SECURITY_POLICY}x-shared: &paths [payments/*]\nx-refs: [${Array(101).fill('*paths').join(', ')}]\n`;

/** Block mappings nested `depth` deep (two spaces per level). */
function blockNesting(depth: number): string {
  let text = '';
  for (let i = 0; i < depth; i++) text += `${'  '.repeat(i)}k${i}:\n`;
  return `${text}${'  '.repeat(depth)}leaf: 1\n`;
}

const CASES: RefusalCase[] = [
  policy(
    '1 MiB + 1 byte of YAML',
    `${SECURITY_POLICY}# ${'x'.repeat(MIB - SECURITY_POLICY.length - 1)}`,
    { status: 413, code: 'ERR_REQUEST_TOO_LARGE' },
  ),
  policy('8 MiB of YAML', `workloads: []\n# ${'x'.repeat(8 * MIB)}`, {
    status: 413,
    code: 'ERR_REQUEST_TOO_LARGE',
  }),
  policy('the billion-laughs alias bomb', BILLION_LAUGHS),
  policy('the billion-laughs bomb sent as text/plain', BILLION_LAUGHS, {
    contentType: 'text/plain',
  }),
  policy('101 alias references (one over the limit)', ALIAS_FLOOD),
  policy('an alias that refers to itself', 'workloads: &a [*a]\n'),
  policy('block nesting 40 levels deep', blockNesting(40)),
  policy(
    'flow sequences nested 100,000 deep',
    `workloads: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`,
  ),
  policy(
    'flow mappings nested 50,000 deep',
    `workloads: ${'{a: '.repeat(50_000)}1${'}'.repeat(50_000)}\n`,
  ),
  // Kept small: the yaml parser costs ~25 µs per flow item, so a near-1 MiB list of items holds
  // the event loop for seconds (reported, not asserted here: no timed tests).
  policy('an unclosed flow sequence of 10,000 items', `workloads: [${'a, '.repeat(10_000)}`),
  policy('a !!js/function tag', 'workloads: !!js/function "function () { return 1 }"\n'),
  policy('a !!binary tag', 'workloads: []\ngroups:\n  g: !!binary aGVsbG8=\n'),
  policy(
    'a verbatim python/object tag',
    'workloads: !<tag:yaml.org,2002:python/object:os.system> [id]\n',
  ),
  policy(
    'a %YAML 1.1 directive (yes/no booleans, merge keys)',
    `%YAML 1.1\n---\n${SECURITY_POLICY}`,
  ),
  policy('two documents', `${SECURITY_POLICY}---\n${SECURITY_POLICY}`),
  policy(
    'duplicate top-level keys (a second, wider grants list)',
    `${SECURITY_POLICY}grants:\n  - to: key:app-reader\n    write: ['*']\n`,
  ),
  policy(
    'a merge key smuggling a grant',
    `base: &b {to: key:app-reader, write: ['*']}\n${SECURITY_POLICY}  - <<: *b\n`,
  ),
  policy('a complex (sequence) key', '? [workloads, grants]\n: []\n'),
  policy('an empty document', ''),
  policy('an unterminated quoted string', 'workloads:\n  - namespace: "payments\n'),
  policy('a NUL byte', `${SECURITY_POLICY}\u0000`),
  policy('an unknown top-level key (admins)', `${SECURITY_POLICY}admins: [key:app-reader]\n`),
  policy('JSON sent as application/json', JSON.stringify({ workloads: [] }), {
    contentType: 'application/json',
    status: 400,
    code: 'ERR_REQUEST_INVALID',
  }),
  policy('YAML with no content-type', SECURITY_POLICY, {
    contentType: null,
    status: 415,
    code: 'ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE',
  }),
  policy('YAML as application/xml', SECURITY_POLICY, {
    contentType: 'application/xml',
    status: 415,
    code: 'ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE',
  }),
];

describe('bad-input corpus: policy documents', () => {
  const corpus = refusalCorpus();

  // A bound, not a benchmark: a bomb that is not refused promptly would hang the suite.
  corpus.refuses(CASES, { timeout: 15_000 });
});
