// The JWT-SVID profile: FetchJWTSVID (asks the server with the current X509-SVID),
// FetchJWTBundles (stream) and ValidateJWTSVID (local, against the bundle). @see SPIFFE
// Workload API §6.2
import type { Clock } from '../src/clock/index.js';
import { HallmarkError, isHallmarkError } from '../src/errors/index.js';
import type { JwtSvidValidationContext, ValidatedJwtSvid } from '../src/jwtsvid/index.js';
import { parseSpiffeId } from '../src/spiffe/index.js';
import type { FederatedBundleFeed } from './federated-bundle-feed.js';
import type { IdentityFeed, IdentitySnapshot } from './identity-feed.js';
import type { JwtBundleWatch } from './jwt-bundle-watch.js';
import type { JwtServerApi } from './jwt-server-api.js';
import type { OpenStream } from './open-stream.js';
import { toProtoStruct } from './protobuf-struct.js';
import type {
  JWTBundlesResponse,
  JWTSVIDRequest,
  JWTSVIDResponse,
  ValidateJWTSVIDRequest,
  ValidateJWTSVIDResponse,
} from './workload-api-proto.js';
import { trustDomainIdOf } from './workload-svid.js';

/** What the JWT-SVID profile works with. */
export interface JwtSvidProfileDeps {
  readonly identity: IdentityFeed;
  readonly api: Pick<JwtServerApi, 'issueJwtSvid'>;
  readonly bundles: JwtBundleWatch;
  readonly clock: Clock;
  /** The federated trust domains' bundles (their JWT authorities validate their JWT-SVIDs). */
  readonly federated?: FederatedBundleFeed;
}

/**
 * The validator, loaded on the first ValidateJWTSVID: the jwtsvid surface also carries the
 * server's JWT authorities (PostgreSQL, signing-key rotation), about a second of module loading
 * that a sidecar which never validates — or has yet to write its first token — should not pay.
 */
let validator: Promise<JwtSvidValidator> | undefined;

/** `validateJwtSvid`'s signature. */
type JwtSvidValidator = (
  token: string,
  context: JwtSvidValidationContext,
) => Promise<ValidatedJwtSvid>;

function loadValidator(): Promise<JwtSvidValidator> {
  validator ??= import('../src/jwtsvid/index.js').then(
    (jwtsvid) => jwtsvid.validateJwtSvid,
    (err: unknown) => {
      validator = undefined; // let the next call try again
      throw err;
    },
  );
  return validator;
}

/**
 * A bundle older than this is fetched again when a token names an unknown `kid`: a key
 * published since the last poll must not fail validation until the next one.
 */
export const UNKNOWN_KID_REFETCH_MS = 5_000;

function needed(snapshot: IdentitySnapshot): HallmarkError {
  return (
    snapshot.error ??
    new HallmarkError('ERR_WORKLOADAPI_SVID_UNAVAILABLE', {
      message: 'no X509-SVID obtained yet; retry with backoff',
    })
  );
}

function badAnswer(why: string): HallmarkError {
  return new HallmarkError('ERR_SIDECAR_BAD_RESPONSE', { detail: `POST /v1/svid/jwt: ${why}` });
}

/**
 * The claims of a compact JWS, unverified: enough to check that the server answered for this
 * workload and audience (it was received over mTLS from the server; relying parties verify it).
 * Decoded by hand because jose's module graph costs ~100 ms at sidecar start.
 */
function claimsOf(token: string): { sub?: unknown; aud?: unknown } {
  const payload = token.split('.')[1];
  const claims: unknown = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'));
  if (claims === null || typeof claims !== 'object') throw new TypeError('claims not an object');
  return claims;
}

/** The trust domain of a compact JWT's `sub` claim, unverified; `undefined` if unreadable. */
function subjectTrustDomainOf(token: string): string | undefined {
  try {
    const sub = claimsOf(token).sub;
    if (typeof sub !== 'string') return undefined;
    return /^spiffe:\/\/([^/]+)/.exec(sub)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * FetchJWTSVID: `audience` is mandatory (§6.2.1, §4.5 → InvalidArgument); a `spiffe_id` other
 * than the workload's own is PermissionDenied. The server is asked over mTLS with the current
 * X509-SVID and its answer is checked (subject, audience) before it is passed on.
 * @throws HallmarkError (see grpc-status.ts for the status each code becomes).
 */
export async function fetchJwtSvid(
  deps: JwtSvidProfileDeps,
  request: JWTSVIDRequest,
): Promise<JWTSVIDResponse> {
  const audience = request.audience;
  if (audience.length === 0 || audience.some((value) => value === '')) {
    throw new HallmarkError('ERR_JWTSVID_AUDIENCE_INVALID', {
      message: 'audience is required: at least one non-empty value',
    });
  }
  const snapshot = deps.identity.snapshot();
  const svid = snapshot.svid;
  if (svid === undefined) throw needed(snapshot);
  const own = svid.spiffeId.toString();
  if (request.spiffe_id !== '' && parseSpiffeId(request.spiffe_id).toString() !== own) {
    throw new HallmarkError('ERR_WORKLOADAPI_NOT_ENTITLED', {
      message: `this workload is ${own} only`,
    });
  }
  const issued = await deps.api.issueJwtSvid(
    { chainPem: svid.chainPem, keyPem: svid.keyPem },
    audience,
  );
  let claims;
  try {
    claims = claimsOf(issued.token);
  } catch {
    throw badAnswer('token is not a JWT');
  }
  if (issued.spiffeId !== own || claims.sub !== own) throw badAnswer('token is for another ID');
  const aud: unknown[] = typeof claims.aud === 'string' ? [claims.aud] : [claims.aud].flat();
  if (!audience.every((value) => aud.includes(value))) throw badAnswer('audience differs');
  return { svids: [{ spiffe_id: own, svid: issued.token, hint: '' }] };
}

/**
 * FetchJWTBundles: the trust domain's JWK Set with only its `jwt-svid` keys (§6.2.2), and the
 * JWT bundle of each federated trust domain that has JWT authorities, at once and again
 * whenever the server publishes a change of either. The trust domain is the SVID's, so the
 * stream waits for the first SVID like FetchX509SVID does.
 */
export function serveJwtBundles(
  deps: JwtSvidProfileDeps,
  stream: OpenStream<JWTBundlesResponse>,
): void {
  let watching = false;
  let own: Buffer | undefined;
  let sent: Record<string, Buffer> | undefined;
  let trustDomain = '';
  const send = (): void => {
    if (own === undefined) return;
    const bundles: Record<string, Buffer> = {};
    for (const bundle of deps.federated?.snapshot().values() ?? []) {
      if (bundle.jwtKeys.length > 0) bundles[bundle.id] = bundle.jwks;
    }
    bundles[trustDomain] = own;
    const same =
      sent !== undefined &&
      Object.keys(sent).length === Object.keys(bundles).length &&
      Object.entries(bundles).every(([id, jwks]) => sent?.[id]?.equals(jwks) === true);
    if (same) return;
    sent = bundles;
    stream.send({ bundles });
  };
  const onSnapshot = ({ latest, error }: IdentitySnapshot): void => {
    if (error?.code === 'ERR_WORKLOADAPI_STOPPING') return stream.fail(error);
    if (latest === undefined) {
      if (error !== undefined) stream.fail(error);
      return;
    }
    if (watching || stream.isClosed) return;
    watching = true;
    trustDomain = trustDomainIdOf(latest);
    stream.onClose(
      deps.bundles.subscribe((update) => {
        if (update.error !== undefined) return stream.fail(update.error);
        own = update.bundle.jwks;
        send();
      }),
    );
    if (deps.federated !== undefined) stream.onClose(deps.federated.subscribe(send));
  };
  stream.onClose(deps.identity.subscribe(onSnapshot));
  onSnapshot(deps.identity.snapshot());
}

/**
 * ValidateJWTSVID: both fields mandatory (§6.2.3); the token is validated by the JWT-SVID rules
 * (go-spiffe's, shared with the server) against the trust domain's JWT bundle, at the clock's
 * time. Returns the SPIFFE ID and every claim of the verified payload.
 * @throws HallmarkError: an `ERR_JWTSVID_*` reason (InvalidArgument) or why there is no bundle.
 */
export async function validateJwtSvidRequest(
  deps: JwtSvidProfileDeps,
  request: ValidateJWTSVIDRequest,
): Promise<ValidateJWTSVIDResponse> {
  if (request.audience === '') {
    throw new HallmarkError('ERR_JWTSVID_AUDIENCE_INVALID', { message: 'audience is required' });
  }
  if (request.svid === '') {
    throw new HallmarkError('ERR_WORKLOADAPI_REQUEST_INVALID', { message: 'svid is required' });
  }
  const snapshot = deps.identity.snapshot();
  const latest = snapshot.latest;
  // The trust domain (which bundle to use) is learnt from the first SVID.
  if (latest === undefined || snapshot.error?.code === 'ERR_WORKLOADAPI_STOPPING') {
    throw needed(snapshot);
  }
  const validateJwtSvid = await loadValidator();
  // The bundle is chosen by the token's (unverified) subject, as go-spiffe does: a federated
  // trust domain's JWT-SVID is validated with that trust domain's keys only (Federation §7.3).
  const federated = deps.federated?.snapshot().get(subjectTrustDomainOf(request.svid) ?? '');
  const validate = async (maxAgeMs?: number): Promise<ValidatedJwtSvid> => {
    if (federated !== undefined) {
      return validateJwtSvid(request.svid, {
        bundleJwks: federated.jwtKeys,
        audience: request.audience,
        trustDomain: federated.trustDomain,
        clock: deps.clock,
      });
    }
    const bundle = await deps.bundles.current(maxAgeMs);
    return validateJwtSvid(request.svid, {
      bundleJwks: bundle.keys,
      audience: request.audience,
      trustDomain: latest.spiffeId.trustDomain,
      clock: deps.clock,
    });
  };
  let validated;
  try {
    validated = await validate();
  } catch (err) {
    if (federated !== undefined || !isHallmarkError(err, 'ERR_JWTSVID_AUTHORITY_UNKNOWN')) {
      throw err;
    }
    validated = await validate(UNKNOWN_KID_REFETCH_MS);
  }
  return { spiffe_id: validated.spiffeId.toString(), claims: toProtoStruct(validated.claims) };
}
