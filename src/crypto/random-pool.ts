// Random bytes for ids and serials, drawn from a buffer the CSPRNG fills in bulk.
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

/**
 * `size` fresh bytes from node's CSPRNG, in a buffer of their own. A `randomBytes(16)` call
 * costs about 5 µs, mostly node's per-call set-up rather than the random bytes; filling 4 KiB
 * at a time and copying slices out costs a fraction of that (node's `randomUUID` pools the same
 * way). No byte is handed out twice. For public values (serials, token ids), not for keys.
 */
export function pooledRandomBytes(size: number): Buffer {
  if (!Number.isInteger(size) || size < 1 || size > POOL_BYTES) {
    throw new RangeError(`pooled random bytes: size ${size} is not in 1..${POOL_BYTES}`);
  }
  if (offset + size > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  // A copy: the pool's bytes are overwritten at the next refill.
  const bytes = Buffer.from(pool.subarray(offset, offset + size));
  offset += size;
  return bytes;
}
