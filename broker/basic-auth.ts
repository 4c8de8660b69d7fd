// Platform authentication: HTTP basic auth against the configured broker credentials.
import { createHash, timingSafeEqual } from 'node:crypto';
import { HallmarkError } from '../src/errors/index.js';

/** The broker's credentials (`HALLMARK_BROKER_USERNAME` / `_PASSWORD`). */
export interface BrokerCredentials {
  readonly username: string;
  readonly password: string;
}

/** Value of `WWW-Authenticate` on a 401 (RFC 7617 §2). */
export const BASIC_CHALLENGE = 'Basic realm="hallmark-broker", charset="UTF-8"';

const BASIC = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i;

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Returns a checker for `Authorization` headers. Username and password are compared as
 * SHA-256 digests with `timingSafeEqual` — equal-length inputs, so neither the length nor
 * the first differing byte shows in the timing — and both comparisons always run.
 *
 * @see OSB 2.17 "Platform to Service Broker Authentication": the Platform MUST use basic
 * authentication on every request and the broker MUST answer a failure with 401.
 * @throws HallmarkError `ERR_BROKER_UNAUTHORIZED` (the reason only in `detail`).
 */
export function basicAuthChecker(
  credentials: BrokerCredentials,
): (header: string | undefined) => void {
  if (credentials.username === '' || credentials.password === '') {
    // Never open: an empty credential would be one anybody can guess.
    throw new Error('broker credentials must not be empty');
  }
  const username = digest(credentials.username);
  const password = digest(credentials.password);
  return (header) => {
    const match = header === undefined ? null : BASIC.exec(header);
    if (match === null) throw unauthorized('no basic credentials');
    const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) throw unauthorized('credentials without ":"');
    const userOk = timingSafeEqual(digest(decoded.slice(0, colon)), username);
    const passwordOk = timingSafeEqual(digest(decoded.slice(colon + 1)), password);
    if (!(userOk && passwordOk)) throw unauthorized('wrong username or password');
  };
}

function unauthorized(detail: string): HallmarkError {
  return new HallmarkError('ERR_BROKER_UNAUTHORIZED', { detail });
}
