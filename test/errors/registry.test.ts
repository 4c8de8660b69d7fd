import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors/index.js';
import { HTTP_STATUS } from '../../src/http/index.js';

/** The document that owns the error table (and troubleshooting by code). */
const errorDoc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

describe('error registry', () => {
  const codes = Object.keys(ERROR_CODES);

  it('uses ERR_<AREA>_<CONDITION> names (ERR_INTERNAL is the one catch-all)', () => {
    for (const code of codes.filter((c) => c !== 'ERR_INTERNAL'))
      expect(code).toMatch(/^ERR_[A-Z0-9]+_[A-Z0-9_]+$/);
  });

  it('gives every code an HTTP status and nothing else one', () => {
    expect(Object.keys(HTTP_STATUS).sort()).toEqual([...codes].sort());
    for (const status of Object.values(HTTP_STATUS)) expect(status).toBeGreaterThanOrEqual(400);
  });

  it('documents every code in the docs/errors.md table with its status', () => {
    const missing = codes.filter(
      (code) =>
        !new RegExp(
          `\\|\\s*\`${code}\`\\s*\\|\\s*${HTTP_STATUS[code as keyof typeof HTTP_STATUS]}\\s*\\|`,
        ).test(errorDoc),
    );
    expect(missing).toEqual([]);
  });

  it('documents no code that does not exist', () => {
    const documented = [...errorDoc.matchAll(/^\|\s*`(ERR_[A-Z0-9_]+)`/gm)].map((m) => m[1]);
    expect(documented.filter((code) => !codes.includes(code as string))).toEqual([]);
  });
});
