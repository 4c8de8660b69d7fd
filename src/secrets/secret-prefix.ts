// Secret scopes: a prefix is a valid secret path followed by `/`, never empty.
import { HallmarkError } from '../errors/index.js';
import { secretPathReason } from './secret-path.js';

/**
 * Checks a scope prefix such as `osb/<instance>/` and returns it. An empty prefix (every
 * secret) or one without the trailing `/` (`app` would also match `apple/x`) is refused.
 *
 * @throws HallmarkError `ERR_SECRET_BAD_PATH`.
 */
export function validateSecretPrefix(prefix: string): string {
  const reason = !prefix.endsWith('/')
    ? 'prefix must end with "/"'
    : secretPathReason(prefix.slice(0, -1));
  if (reason !== undefined) throw new HallmarkError('ERR_SECRET_BAD_PATH', { detail: reason });
  return prefix;
}
