// Secret values: well-formed UTF-8 text up to a byte limit, encoded once for sealing.
import { HallmarkError } from '../errors/index.js';

/** Default largest value, in UTF-8 bytes (64 KiB; `HALLMARK_SECRET_MAX_BYTES`, docs/install.md). */
export const DEFAULT_MAX_SECRET_BYTES = 65_536;

/**
 * Index of the first unpaired UTF-16 surrogate in `text`, or -1. Such a string has no UTF-8
 * encoding (Unicode §3.9, D92): `Buffer.from` would silently replace it with U+FFFD and the
 * stored value would differ from the one sent.
 */
export function firstLoneSurrogate(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
    }
    return i;
  }
  return -1;
}

/**
 * Checks a value and returns its UTF-8 bytes (the plaintext that is sealed).
 *
 * @throws HallmarkError `ERR_SECRET_BAD_VALUE` when it is not a string or not well-formed
 * Unicode; `ERR_SECRET_TOO_LARGE` when it encodes to more than `maxBytes` bytes. The error
 * never contains the value.
 */
export function encodeSecretValue(value: unknown, maxBytes: number): Buffer {
  if (typeof value !== 'string') {
    throw new HallmarkError('ERR_SECRET_BAD_VALUE', { detail: `value is a ${typeof value}` });
  }
  // Cheap bound first: every UTF-16 unit encodes to at least one byte.
  if (value.length > maxBytes) {
    throw new HallmarkError('ERR_SECRET_TOO_LARGE', {
      detail: `value is longer than ${maxBytes} bytes`,
    });
  }
  const lone = firstLoneSurrogate(value);
  if (lone !== -1) {
    throw new HallmarkError('ERR_SECRET_BAD_VALUE', {
      detail: `unpaired UTF-16 surrogate at offset ${lone}`,
    });
  }
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > maxBytes) {
    bytes.fill(0);
    throw new HallmarkError('ERR_SECRET_TOO_LARGE', {
      detail: `value is ${bytes.length} bytes; the limit is ${maxBytes}`,
    });
  }
  return bytes;
}

// One decoder for every value: a call without `stream` keeps no state from the one before, and
// making a decoder per value cost as much as decoding it (a batch opens ten).
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes opened plaintext back to the value. `fatal` makes invalid UTF-8 an error instead of
 * U+FFFD replacement, so a value is either exactly what was written or refused.
 */
export function decodeSecretValue(bytes: Buffer): string {
  return UTF8.decode(bytes);
}
