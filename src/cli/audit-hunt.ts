// `hallmark audit hunt`: a Sigma rule over the audit log in its OCSF form, matches as JSON lines.
import { readFile } from 'node:fs/promises';
import { firstAuditSeqSince, readAuditPage } from '../audit/index.js';
import type { Clock } from '../clock/index.js';
import { HALLMARK_VERSION } from '../config/index.js';
import type { Queryable } from '../db/index.js';
import { toOcsfEvent } from '../ocsf/index.js';
import { Hunt, parseSigmaFile, type Placeholders } from '../sigma/index.js';
import { UsageError } from './command.js';

/** `--placeholder name=v1,v2` values for `|expand` (Sigma "Placeholders"). */
export function parsePlaceholders(given: readonly string[]): Placeholders {
  const placeholders: Record<string, string[]> = {};
  for (const item of given) {
    const match = /^([A-Za-z0-9_]+)=(.*)$/.exec(item);
    if (!match) throw new UsageError(`--placeholder takes name=value[,value...], got "${item}"`);
    placeholders[match[1] as string] = (match[2] as string).split(',');
  }
  return placeholders;
}

/** Reads the rule (a UsageError when it cannot be used, so the exit code is 2). */
export async function loadHunt(file: string, placeholders: Placeholders): Promise<Hunt> {
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`);
  }
  try {
    return new Hunt(parseSigmaFile(source, placeholders));
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message}`);
  }
}

/**
 * Walks the chain from the first row at or after `sinceMs` (everything without it), maps each
 * row to OCSF and prints each reported event as one JSON line. Returns how many were printed.
 */
export async function runHunt(
  db: Queryable,
  hunt: Hunt,
  out: (line: string) => void,
  options: { sinceMs?: number; clock: Clock },
): Promise<number> {
  let after = 0;
  if (options.sinceMs !== undefined) {
    const first = await firstAuditSeqSince(db, new Date(options.clock.now() - options.sinceMs));
    if (first === undefined) return 0;
    after = first - 1;
  }
  const product = { version: HALLMARK_VERSION };
  let printed = 0;
  for (;;) {
    const page = await readAuditPage(db, after, 5_000);
    if (page.length === 0) break;
    for (const record of page) {
      for (const event of hunt.push(toOcsfEvent(record, product))) {
        out(JSON.stringify(event));
        printed += 1;
      }
    }
    after = page.at(-1)?.seq ?? after;
  }
  return printed;
}
