// Verifies an audit chain read in seq order: catches edited, deleted, inserted and reordered rows.
import { chainHash, GENESIS_HASH, type AuditRecord } from './audit-record.js';

/** Outcome of a verification. */
export type ChainVerdict =
  | { ok: true; rows: number; head: { seq: number; hash: string } }
  | { ok: false; rows: number; seq: number; problem: string };

/**
 * Incremental verifier: feed rows in ascending `seq` order, then call {@link finish} with
 * the stored head. The first broken row is reported and later rows are not trusted.
 */
export class ChainVerifier {
  #prev: { seq: number; hash: string };
  #rows = 0;
  #failure: { seq: number; problem: string } | undefined;

  /**
   * @param start the row before the first one fed: genesis (seq 0) for a whole chain, or the
   *   last row of an archived prefix (its seq and hash, which a signed checkpoint vouches for).
   */
  constructor(start: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH }) {
    this.#prev = { ...start };
  }

  /** Returns false once the chain is known to be broken. */
  add(row: AuditRecord): boolean {
    if (this.#failure) return false;
    const expectedSeq = this.#prev.seq + 1;
    if (row.seq !== expectedSeq) {
      this.#failure = {
        seq: expectedSeq,
        problem: `row ${expectedSeq} is missing (next row is ${row.seq})`,
      };
    } else if (row.prevHash !== this.#prev.hash) {
      this.#failure = { seq: row.seq, problem: 'prev_hash does not match the previous row' };
    } else if (chainHash(row.prevHash, row) !== row.hash) {
      this.#failure = { seq: row.seq, problem: 'row content does not match its hash' };
    }
    if (this.#failure) return false;
    this.#prev = { seq: row.seq, hash: row.hash };
    this.#rows += 1;
    return true;
  }

  /** Compares the end of the chain with the stored head (detects truncation of the tail). */
  finish(head: { seq: number; hash: string } | undefined): ChainVerdict {
    if (this.#failure) return { ok: false, rows: this.#rows, ...this.#failure };
    const stored = head ?? { seq: 0, hash: GENESIS_HASH };
    if (stored.seq !== this.#prev.seq || stored.hash !== this.#prev.hash) {
      const seq = Math.min(stored.seq, this.#prev.seq) + 1;
      return {
        ok: false,
        rows: this.#rows,
        seq,
        problem: `chain ends at ${this.#prev.seq} but head records ${stored.seq}`,
      };
    }
    return { ok: true, rows: this.#rows, head: stored };
  }
}

/** Verifies a whole chain held in memory. */
export function verifyChain(
  rows: Iterable<AuditRecord>,
  head?: { seq: number; hash: string },
  start?: { seq: number; hash: string },
): ChainVerdict {
  const verifier = new ChainVerifier(start);
  for (const row of rows) if (!verifier.add(row)) break;
  return verifier.finish(head);
}
