// The v1 API's answers as the client returns them, checked field by field before use.
import { HallmarkClientError } from './client-error.js';

/** `GET /v1/bundle`: the SPIFFE bundle (JWKS) with its sequence and refresh hint. */
export interface SpiffeBundle {
  /** JWKs as sent: `x509-svid` keys carry `x5c`, `jwt-svid` keys a `kid`. */
  readonly keys: readonly Readonly<Record<string, unknown>>[];
  readonly sequence: number;
  readonly refreshHint: number;
}

/** `POST /v1/svid/x509`. */
export interface X509SvidResponse {
  readonly spiffeId: string;
  /** PEM chain, leaf first. */
  readonly svid: string;
  readonly expiresAt: Date;
  /** PEM CA certificates of the trust bundle. */
  readonly bundle: string;
  /**
   * SPIFFE bundle documents of the foreign trust domains the workload federates with, by
   * trust domain name (empty when it federates with none, or from a server without federation).
   */
  readonly federatedBundles: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
}

/** `POST /v1/svid/jwt`. */
export interface JwtSvidResponse {
  readonly spiffeId: string;
  readonly token: string;
  readonly expiresAt: Date;
}

/** `POST /v1/authn/login` and `POST /v1/authn/apikey`. */
export interface AccessToken {
  readonly token: string;
  readonly expiresAt: Date;
}

/** `GET /v1/secrets/<path>`. */
export interface SecretResponse {
  readonly path: string;
  readonly version: number;
  readonly value: string;
}

/** `PUT /v1/secrets/<path>`. */
export interface SecretWriteResponse {
  readonly path: string;
  readonly version: number;
}

/** `PUT /v1/policy`. */
export interface PolicyVersion {
  readonly version: number;
  readonly sha256: string;
}

/** `GET /v1/policy`: the document in force, exactly as loaded. */
export interface PolicyDocument extends PolicyVersion {
  readonly document: string;
}

/** One audit row as `GET /v1/audit` returns it (snake_case field names, as in the audit table). */
export interface AuditEventView {
  readonly seq: number;
  readonly time: string;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly outcome: string;
  readonly reason: string;
  readonly request_id: string;
  readonly prev_hash: string;
  readonly hash: string;
}

/** `GET /v1/audit?after=N[&limit=M]`: rows after the cursor, oldest first. */
export interface AuditPage {
  readonly events: readonly AuditEventView[];
  /** The cursor for the next page (the last seq returned, or `after` when there was none). */
  readonly next: number;
}

/** `POST /v1/ca/distrust`. */
export interface CaDistrusted {
  readonly distrustedCa: number;
  /** False when that CA was distrusted already. */
  readonly changed: boolean;
  readonly activeCa: number;
  readonly sequence: number;
}

/** One CA as `GET /v1/ca/authorities` lists it. */
export interface CaAuthorityView {
  readonly id: number;
  /** `prepared`, `active`, `old` or `distrusted`. */
  readonly status: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly distrustedAt: Date | undefined;
  /** The CA certificate (PEM). */
  readonly certificate: string;
}

/** A JSON object with typed field accessors that fail as `ERR_CLIENT_BAD_RESPONSE`. */
export class ResponseObject {
  constructor(
    private readonly fields: Readonly<Record<string, unknown>>,
    private readonly what: string,
  ) {}

  /** Parses a response body that must be one JSON object. */
  static parse(body: string, what: string): ResponseObject {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (cause) {
      throw bad(`${what}: response is not JSON`, cause);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw bad(`${what}: response is not a JSON object`);
    }
    return new ResponseObject(parsed as Record<string, unknown>, what);
  }

  string(key: string): string {
    const value = this.fields[key];
    if (typeof value !== 'string') throw bad(`${this.what}: "${key}" is not a string`);
    return value;
  }

  integer(key: string): number {
    const value = this.fields[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      throw bad(`${this.what}: "${key}" is not an integer`);
    }
    return value;
  }

  boolean(key: string): boolean {
    const value = this.fields[key];
    if (typeof value !== 'boolean') throw bad(`${this.what}: "${key}" is not a boolean`);
    return value;
  }

  date(key: string): Date {
    const date = new Date(this.string(key));
    if (Number.isNaN(date.getTime())) throw bad(`${this.what}: "${key}" is not a date`);
    return date;
  }

  /** A date, or `undefined` for `null`. */
  nullableDate(key: string): Date | undefined {
    return this.fields[key] === null ? undefined : this.date(key);
  }

  /** The whole object, for responses the caller checks itself (compliance reports, key sets). */
  all(): Readonly<Record<string, unknown>> {
    return this.fields;
  }

  /** An array of JSON objects. */
  objects(key: string): Readonly<Record<string, unknown>>[] {
    const value = this.fields[key];
    if (!Array.isArray(value)) throw bad(`${this.what}: "${key}" is not an array`);
    return value.map((item) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        throw bad(`${this.what}: "${key}" holds a non-object`);
      }
      return item as Record<string, unknown>;
    });
  }

  /**
   * An object whose every value is a JSON object (`federated_bundles`); an absent key is an
   * empty map, so answers of servers that predate the field still read.
   */
  objectMap(key: string): Map<string, Readonly<Record<string, unknown>>> {
    const value = this.fields[key];
    const map = new Map<string, Readonly<Record<string, unknown>>>();
    if (value === undefined) return map;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw bad(`${this.what}: "${key}" is not an object`);
    }
    for (const [name, item] of Object.entries(value)) {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        throw bad(`${this.what}: "${key}" holds a non-object`);
      }
      map.set(name, item as Record<string, unknown>);
    }
    return map;
  }

  /** An object whose every value is a string (the batch's `secrets`). */
  stringMap(key: string): Map<string, string> {
    const value = this.fields[key];
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw bad(`${this.what}: "${key}" is not an object`);
    }
    const map = new Map<string, string>();
    for (const [name, item] of Object.entries(value)) {
      if (typeof item !== 'string') throw bad(`${this.what}: "${key}" holds a non-string`);
      map.set(name, item);
    }
    return map;
  }
}

function bad(message: string, cause?: unknown): HallmarkClientError {
  return new HallmarkClientError('ERR_CLIENT_BAD_RESPONSE', message, { cause });
}
