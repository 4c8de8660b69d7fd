// PEM: the base64 text armour around DER certificates, CSRs and keys.
import { MalformedDerError } from './der-reader.js';

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END ([A-Z0-9 ]+)-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

/** One decoded PEM block. */
export interface PemBlock {
  readonly label: string;
  readonly der: Buffer;
}

/**
 * Every PEM block in `text`, in order. Text outside blocks (OpenSSL's human-readable dumps)
 * is ignored; a block whose labels differ or whose body is not strict base64 is an error.
 * Headers (RFC 1421 `Proc-Type:`) are not accepted.
 * @see RFC 7468 §2, §3
 * @throws MalformedDerError
 */
export function decodePemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const [, begin, body, end] = match as unknown as [string, string, string, string];
    if (begin !== end) throw new MalformedDerError(`PEM labels differ: ${begin} / ${end}`);
    // Buffer's decoder skips characters it does not know; check the alphabet first.
    if (!BASE64_BODY.test(body)) throw new MalformedDerError('PEM body is not base64');
    const der = Buffer.from(body, 'base64');
    if (der.length === 0) throw new MalformedDerError('empty PEM block');
    blocks.push({ label: begin, der });
  }
  return blocks;
}

/**
 * The DER of the only PEM block in `text`, which must carry one of `labels`.
 * @throws MalformedDerError
 */
export function decodeSinglePem(text: string, labels: readonly string[]): Buffer {
  const blocks = decodePemBlocks(text);
  if (blocks.length !== 1)
    throw new MalformedDerError(`expected one PEM block, found ${blocks.length}`);
  const block = blocks[0]!;
  if (!labels.includes(block.label)) {
    throw new MalformedDerError(`unexpected PEM label ${block.label}`);
  }
  return block.der;
}

/**
 * DER of every `CERTIFICATE` block in each of `pems` (each string may hold several), in
 * order; blocks with other labels are an error.
 * @throws MalformedDerError
 */
export function decodeCertificates(pems: readonly string[]): Buffer[] {
  const ders: Buffer[] = [];
  for (const pem of pems) {
    const blocks = decodePemBlocks(pem);
    if (blocks.length === 0) throw new MalformedDerError('no PEM certificate found');
    for (const block of blocks) {
      if (block.label !== 'CERTIFICATE') {
        throw new MalformedDerError(`unexpected PEM label ${block.label}`);
      }
      ders.push(block.der);
    }
  }
  return ders;
}

/**
 * PEM text for `der`: base64 in 64-character lines, one trailing newline.
 * @see RFC 7468 §2
 */
export function encodePem(der: Buffer, label: string): string {
  const base64 = der.toString('base64');
  let body = '';
  for (let i = 0; i < base64.length; i += 64) body += `${base64.slice(i, i + 64)}\n`;
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}
