// The X-Broker-API-Version header: which OSB versions this broker serves.
import { HallmarkError } from '../src/errors/index.js';

/** Oldest OSB version served: 2.13 platforms (Kubernetes service catalog, older CF) still work. */
export const MIN_API_VERSION = { major: 2, minor: 13 } as const;
/** Version implemented; newer 2.x minors are additive (OSB 2.17 "Change Policy for Minor Versions"). */
export const API_VERSION = '2.17';

/**
 * Newest minor whose fields this broker knows. A platform speaking a later 2.x minor gets the
 * 2.17 shape: minors only add fields, so everything 2.17 defines is defined there too.
 */
export const LATEST_KNOWN_MINOR = 17;

const VERSION = /^(\d{1,4})\.(\d{1,4})$/;

/** A served `X-Broker-API-Version`: major 2, minor 13 or later. */
export interface ApiVersion {
  readonly major: number;
  readonly minor: number;
}

/** {@link API_VERSION} as an {@link ApiVersion}. */
export const LATEST_API_VERSION: ApiVersion = { major: 2, minor: LATEST_KNOWN_MINOR };

/**
 * Checks the header. The spec lets a broker answer a missing header with 400 (OSB 2.17 "API
 * Version Header": "MAY reject the request with `400 Bad Request`") and an unsupported one
 * with 412; Hallmark answers both with 412 Precondition Failed, which is what platforms and
 * conformance checkers act on, naming the version to use.
 *
 * @returns the version, which decides the fields of the answer (see catalog-versions.ts)
 * @throws HallmarkError `ERR_BROKER_API_VERSION_UNSUPPORTED`
 */
export function checkApiVersion(header: string | string[] | undefined): ApiVersion {
  const value = Array.isArray(header) ? undefined : header?.trim();
  const match = value === undefined ? null : VERSION.exec(value);
  if (value === undefined || match === null) {
    throw unsupported(value === undefined ? 'header missing' : 'header is not MAJOR.MINOR');
  }
  const major = Number(match[1]);
  const minor = Number(match[2]);
  // @see OSB 2.17 "API Version Header": versions are MAJOR.MINOR, minors only add.
  if (major !== MIN_API_VERSION.major || minor < MIN_API_VERSION.minor) {
    throw unsupported(`version ${value} not served`);
  }
  return { major, minor };
}

function unsupported(detail: string): HallmarkError {
  return new HallmarkError('ERR_BROKER_API_VERSION_UNSUPPORTED', {
    message: `X-Broker-API-Version must be 2.${MIN_API_VERSION.minor} or later (this broker implements ${API_VERSION})`,
    detail,
  });
}
