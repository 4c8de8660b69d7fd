// The signed checkpoint statement: its exact bytes, its compact JWS, and its offline verification.
import {
  base64url,
  compactVerify,
  createLocalJWKSet,
  flattenedVerify,
  type JSONWebKeySet,
} from 'jose';
import { HallmarkError } from '../errors/index.js';
import type { KeySigner } from '../keyring/index.js';
import { CHECKPOINT_ALG } from './checkpoint-key.js';

/** Version of the statement format; a verifier refuses any other. */
export const CHECKPOINT_VERSION = 1;

/** The JWS `typ` of a checkpoint (RFC 7515 §4.1.9, the `application/` prefix left out). */
export const CHECKPOINT_TYP = 'hallmark-audit-checkpoint+json';

/** What a checkpoint states: row `seq` of the chain of `trust_domain` has `hash`, at `time`. */
export interface CheckpointStatement {
  readonly v: typeof CHECKPOINT_VERSION;
  readonly trust_domain: string;
  readonly seq: number;
  readonly hash: string;
  /** When it was signed: ISO-8601 UTC with milliseconds. */
  readonly time: string;
  /** The checkpoint key that signed it (also in the JWS header). */
  readonly kid: string;
}

/** A stored or received checkpoint: the statement's fields and the JWS that proves them. */
export interface SignedCheckpoint {
  readonly seq: number;
  readonly hash: string;
  readonly time: string;
  readonly kid: string;
  /** Compact JWS (RFC 7515 §7.1), ES256, payload {@link statementBytes}. */
  readonly jws: string;
}

/**
 * The payload bytes: JSON with exactly these members in this order and no whitespace. A
 * verifier needs no canonicalisation (it checks the bytes the JWS carries and parses them);
 * the fixed form only makes two signings of one statement byte-identical.
 */
export function statementBytes(statement: CheckpointStatement): Buffer {
  const { v, trust_domain, seq, hash, time, kid } = statement;
  return Buffer.from(JSON.stringify({ v, trust_domain, seq, hash, time, kid }), 'utf8');
}

/**
 * Signs `payload` as a JWS with `signer` (wherever its key lives: sealed here or in a token).
 * RFC 7515 §5.1: the signature covers ASCII(BASE64URL(header) '.' BASE64URL(payload)); ES256 is
 * r‖s (RFC 7518 §3.4). With `detached` the payload part is left empty (RFC 7515 Appendix F).
 */
export async function signJws(
  signer: KeySigner,
  header: { readonly kid: string; readonly typ?: string },
  payload: Uint8Array,
  detached = false,
): Promise<string> {
  const protectedHeader = base64url.encode(JSON.stringify({ alg: CHECKPOINT_ALG, ...header }));
  const encodedPayload = base64url.encode(payload);
  const input = Buffer.from(`${protectedHeader}.${encodedPayload}`, 'ascii');
  const signature = await signer.sign(input, { hash: 'sha256', format: 'ieee-p1363' });
  return `${protectedHeader}.${detached ? '' : encodedPayload}.${base64url.encode(signature)}`;
}

/** Signs a checkpoint statement. */
export async function signCheckpoint(
  signer: KeySigner,
  statement: CheckpointStatement,
): Promise<SignedCheckpoint> {
  const jws = await signJws(
    signer,
    { kid: statement.kid, typ: CHECKPOINT_TYP },
    statementBytes(statement),
  );
  const { seq, hash, time, kid } = statement;
  return { seq, hash, time, kid, jws };
}

function invalid(detail: string): HallmarkError {
  return new HallmarkError('ERR_AUDIT_CHECKPOINT_INVALID', { detail });
}

function parseStatement(payload: Uint8Array, kid: string | undefined): CheckpointStatement {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    throw invalid('checkpoint payload is not JSON');
  }
  const s = parsed as Partial<Record<keyof CheckpointStatement, unknown>>;
  if (s.v !== CHECKPOINT_VERSION) throw invalid(`unknown checkpoint version ${String(s.v)}`);
  if (
    typeof s.trust_domain !== 'string' ||
    !Number.isSafeInteger(s.seq) ||
    (s.seq as number) < 1 ||
    typeof s.hash !== 'string' ||
    !/^[0-9a-f]{64}$/.test(s.hash) ||
    typeof s.time !== 'string' ||
    Number.isNaN(Date.parse(s.time)) ||
    typeof s.kid !== 'string'
  ) {
    throw invalid('checkpoint payload lacks v, trust_domain, seq, hash, time or kid');
  }
  if (s.kid !== kid) throw invalid('checkpoint payload kid differs from the JWS header');
  return s as CheckpointStatement;
}

/**
 * Verifies a checkpoint's JWS against published checkpoint keys (`GET /v1/audit/keys`) and
 * returns the statement it signs.
 * @throws HallmarkError ERR_AUDIT_CHECKPOINT_INVALID: bad signature, unknown key, wrong `typ`
 *   or a payload that is not a checkpoint statement.
 */
export async function verifyCheckpointJws(
  jws: string,
  keys: JSONWebKeySet,
): Promise<CheckpointStatement> {
  let result: Awaited<ReturnType<typeof compactVerify>>;
  try {
    result = await compactVerify(jws, createLocalJWKSet(keys), { algorithms: [CHECKPOINT_ALG] });
  } catch (err) {
    throw invalid(`checkpoint signature does not verify: ${(err as Error).message}`);
  }
  if (result.protectedHeader.typ !== CHECKPOINT_TYP) throw invalid('not a checkpoint JWS (typ)');
  return parseStatement(result.payload, result.protectedHeader.kid);
}

/**
 * Verifies a detached JWS made by {@link signJws} (e.g. a signed compliance report) over
 * `payload`. Resolves with the kid that signed; rejects like {@link verifyCheckpointJws}.
 */
export async function verifyDetachedJws(
  jws: string,
  payload: Uint8Array,
  keys: JSONWebKeySet,
): Promise<string> {
  const [protectedHeader, empty, signature] = jws.split('.');
  if (protectedHeader === undefined || empty !== '' || signature === undefined) {
    throw invalid('not a detached compact JWS');
  }
  try {
    const result = await flattenedVerify(
      { protected: protectedHeader, payload: base64url.encode(payload), signature },
      createLocalJWKSet(keys),
      { algorithms: [CHECKPOINT_ALG] },
    );
    return result.protectedHeader?.kid ?? '';
  } catch (err) {
    throw invalid(`detached signature does not verify: ${(err as Error).message}`);
  }
}
