// Obtaining credentials: projected token → fresh key pair → CSR → SVID (checked); SVID → token.
import type { Clock } from '../src/clock/index.js';
import { HallmarkError } from '../src/errors/index.js';
import { buildCsr, generateKeyPairAsync } from '../src/x509/index.js';
import type { KeyType } from '../src/x509/index.js';
import type { SvidFiles } from './credential-files.js';
import type { ProjectedTokenSource } from './projected-token.js';
import type { HallmarkServerApi } from './server-api.js';
import { checkIssuedSvid } from './svid-check.js';

/** An SVID ready to be written, with the instant it stops being usable (ms). */
export interface ObtainedSvid {
  readonly files: SvidFiles;
  readonly spiffeId: string;
  readonly expiresAt: number;
  /** The federated bundles that came with it (SPIFFE bundle documents by trust domain). */
  readonly federatedBundles?: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
}

/** An access token ready to be written, with its expiry (ms). */
export interface ObtainedToken {
  readonly token: string;
  readonly expiresAt: number;
}

/** Where the refresh loop gets credentials from (the server, or a fake in unit tests). */
export interface CredentialSource {
  obtainSvid(signal?: AbortSignal): Promise<ObtainedSvid>;
  obtainToken(svid: SvidFiles, signal?: AbortSignal): Promise<ObtainedToken>;
}

/** Dependencies of {@link ServerCredentialSource}. */
export interface ServerCredentialSourceDeps {
  readonly api: HallmarkServerApi;
  readonly projectedToken: ProjectedTokenSource;
  readonly keyType: KeyType;
  readonly clock: Clock;
}

/** Obtains credentials from the Hallmark server. */
export class ServerCredentialSource implements CredentialSource {
  constructor(private readonly deps: ServerCredentialSourceDeps) {}

  /**
   * A new key pair per SVID, made in memory (it is written only to the output volume): a
   * renewal never reuses a key that may have been exposed with an old certificate.
   */
  async obtainSvid(signal?: AbortSignal): Promise<ObtainedSvid> {
    const token = await this.deps.projectedToken.read();
    const keyPair = await generateKeyPairAsync(this.deps.keyType);
    const csr = buildCsr(keyPair);
    const issued = await this.deps.api.issueSvid(token, csr, signal);
    const expiresAt = checkIssuedSvid(issued, keyPair.publicKey, this.deps.clock.now());
    const keyPem = keyPair.privateKey.export({ type: 'pkcs8', format: 'pem' });
    return {
      files: { chainPem: issued.chainPem, keyPem: String(keyPem), bundlePem: issued.bundlePem },
      spiffeId: issued.spiffeId,
      expiresAt,
      federatedBundles: issued.federatedBundles ?? new Map(),
    };
  }

  async obtainToken(svid: SvidFiles, signal?: AbortSignal): Promise<ObtainedToken> {
    const issued = await this.deps.api.login(
      { chainPem: svid.chainPem, keyPem: svid.keyPem },
      signal,
    );
    if (issued.expiresAt <= this.deps.clock.now()) {
      throw new HallmarkError('ERR_SIDECAR_BAD_RESPONSE', {
        detail: 'POST /v1/authn/login: token already expired',
      });
    }
    return issued;
  }
}
