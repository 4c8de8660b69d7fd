// Finds credentials in captured text: raw, JSON-escaped, URL-encoded, hex and base64 at any alignment.

/** A credential the logs must never contain. */
export interface Credential {
  /** What it is, for the failure message (never the value itself). */
  readonly label: string;
  /** Text, or bytes (a DER key) that can only appear encoded. */
  readonly value: string | Buffer;
  /**
   * Also look for any {@link WINDOW}-character piece of the text (a truncated or partly
   * quoted leak). Only for values with no public parts (not whole JWTs: their header and
   * claims are not secret).
   */
  readonly partial?: boolean;
}

/** Length of the pieces a partial leak is looked for with. */
export const WINDOW = 16;

/** Where a credential was found. */
export interface Leak {
  readonly label: string;
  readonly form: string;
}

/**
 * The substrings any base64 (or base64url) text containing `bytes` must contain, one per
 * alignment of `bytes` inside the encoded data: the characters that depend only on `bytes`.
 */
function base64Cores(bytes: Buffer, alphabet: 'base64' | 'base64url'): string[] {
  const cores: string[] = [];
  for (let pad = 0; pad < 3; pad++) {
    const encoded = Buffer.concat([Buffer.alloc(pad), bytes])
      .toString(alphabet)
      .replace(/=+$/, '');
    // The first chars mix in the padding bytes; the last 3 may mix in whatever follows.
    const start = Math.ceil((pad * 4) / 3);
    cores.push(encoded.slice(start, encoded.length - 3));
  }
  return cores;
}

/** Every form in which `value` would be recognisable in a log line. */
export function encodedForms(value: string | Buffer): { form: string; text: string }[] {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const textual =
    typeof value === 'string'
      ? [
          { form: 'raw', text: value },
          { form: 'JSON-escaped', text: JSON.stringify(value).slice(1, -1) },
          { form: 'URL-encoded', text: encodeURIComponent(value) },
        ]
      : [];
  const forms = [
    ...textual,
    { form: 'hex', text: bytes.toString('hex') },
    ...base64Cores(bytes, 'base64').map((text) => ({ form: 'base64', text })),
    ...base64Cores(bytes, 'base64url').map((text) => ({ form: 'base64url', text })),
  ];
  // Forms shorter than 12 characters would match by chance; credentials here are far longer.
  return forms.filter((f) => f.text.length >= 12);
}

/**
 * Pieces of `value` such that any leaked run of at least `WINDOW + WINDOW / 2 - 1` characters
 * contains one of them whole.
 */
function pieces(value: string): string[] {
  const out: string[] = [];
  for (let at = 0; at + WINDOW <= value.length; at += WINDOW / 2)
    out.push(value.slice(at, at + WINDOW));
  if (value.length > WINDOW) out.push(value.slice(-WINDOW));
  return out;
}

/**
 * The credentials (and forms) found in `text`, or in `text` with every line break removed —
 * raw or JSON-escaped once or more — so base64 wrapped as PEM lines is found too.
 */
export function findLeaks(text: string, credentials: readonly Credential[]): Leak[] {
  const unwrapped = text.replace(/\\+[nr]|[\r\n]/g, '');
  const found = (needle: string): boolean => text.includes(needle) || unwrapped.includes(needle);
  const leaks: Leak[] = [];
  for (const credential of credentials) {
    for (const { form, text: needle } of encodedForms(credential.value)) {
      if (found(needle)) leaks.push({ label: credential.label, form });
    }
    if (credential.partial && typeof credential.value === 'string') {
      const piece = pieces(credential.value).find(found);
      if (piece !== undefined)
        leaks.push({ label: credential.label, form: `a ${WINDOW}-character piece` });
    }
  }
  return leaks;
}
