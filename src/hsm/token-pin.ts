// The token's user PIN: read from its file once at start, then kept out of logs and inspection.
import { readFile } from 'node:fs/promises';
import { inspect } from 'node:util';
import { ConfigError } from '../config/index.js';

const VARIABLE = 'HALLMARK_PKCS11_PIN_FILE';
/** CK_TOKEN_INFO.ulMaxPinLen is per token; 255 bytes is above every token we know of. */
const MAX_PIN_BYTES = 255;

/** The user PIN, kept for logging in again after a token reset. Never printed. */
export class TokenPin {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The PIN itself, for C_Login only. */
  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return '[TokenPin]';
  }

  toString(): string {
    return '[TokenPin]';
  }

  [inspect.custom](): string {
    return '[TokenPin]';
  }
}

/**
 * Reads the PIN file: its content without one trailing newline (what `echo` or an editor adds;
 * a Kubernetes Secret mounted as a file has none). The content never appears in an error.
 *
 * @throws ConfigError naming `HALLMARK_PKCS11_PIN_FILE` when the file is unreadable, empty,
 *   over 255 bytes or spans several lines.
 */
export async function readTokenPin(file: string): Promise<TokenPin> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      VARIABLE,
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  const pin = text.replace(/\r?\n$/, '');
  if (pin === '') throw new ConfigError(VARIABLE, `${file} is empty`);
  if (/[\r\n]/.test(pin)) throw new ConfigError(VARIABLE, `${file} holds more than one line`);
  if (Buffer.byteLength(pin) > MAX_PIN_BYTES) {
    throw new ConfigError(VARIABLE, `${file} holds more than ${MAX_PIN_BYTES} bytes`);
  }
  return new TokenPin(pin);
}
