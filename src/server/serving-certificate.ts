// The server's own HTTPS certificate: an SVID for spiffe://<td>/hallmark/server, renewed at half-life.
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { CertificateAuthority } from '../ca/index.js';
import type { Clock } from '../clock/index.js';
import type { ServingTlsSource, TlsMaterial } from '../http/index.js';
import { SERVER_SPIFFE_PATH, spiffeIdFromPath } from '../spiffe/index.js';
import { generateKeyPair, issueServerSvid } from '../x509/index.js';

/** Lifetime of the serving certificate; short, because it is renewed in memory for free. */
const SERVING_TTL_SECONDS = 24 * 3600;

/** Where a failed renewal is reported (the certificate in use stays until one succeeds). */
export interface RenewalLog {
  warn(obj: object, msg?: string): void;
}

/**
 * Issues the serving certificate from the active CA with a fresh key that never leaves this
 * process, re-issues it at half-life and whenever the CA set changes, and tells listeners
 * (the HTTPS server swaps its secure context; no restart). The CA signs through its signer, so
 * issuing is asynchronous; a renewal that fails (a PKCS#11 token that is away) keeps the
 * current certificate and is tried again on the next check.
 */
export class ServingCertificate implements ServingTlsSource {
  #material: TlsMaterial = { key: '', cert: '', ca: [] };
  #renewAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: () => void = () => undefined;
  #renewing: Promise<void> | undefined;
  readonly #listeners = new Set<(material: TlsMaterial) => void>();

  private constructor(
    private readonly ca: CertificateAuthority,
    private readonly trustDomain: string,
    private readonly names: readonly string[],
    private readonly clock: Clock,
    private readonly log: RenewalLog,
  ) {}

  /**
   * Issues the first certificate and starts watching the CA and the clock.
   * @throws HallmarkError ERR_CA_UNAVAILABLE when the CA cannot sign now.
   */
  static async start(
    ca: CertificateAuthority,
    trustDomain: string,
    names: readonly string[],
    clock: Clock,
    log: RenewalLog,
  ): Promise<ServingCertificate> {
    const serving = new ServingCertificate(ca, trustDomain, names, clock, log);
    serving.#material = await serving.#issue();
    serving.#unsubscribe = ca.onChange(() => serving.#bundleChanged());
    serving.#timer = setInterval(() => {
      if (serving.clock.now() >= serving.#renewAt) void serving.renew();
    }, 30_000);
    serving.#timer.unref();
    return serving;
  }

  current(): TlsMaterial {
    return this.#material;
  }

  /** When the current certificate is re-issued (epoch ms): half its lifetime after issuance. */
  renewAt(): number {
    return this.#renewAt;
  }

  onChange(listener: (material: TlsMaterial) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Issues a new certificate now and notifies listeners; one renewal at a time, never throws. */
  renew(): Promise<void> {
    this.#renewing ??= this.#issue()
      .then((material) => {
        this.#material = material;
        for (const listener of this.#listeners) listener(material);
      })
      .catch((err: Error) =>
        this.log.warn(
          { err: err.message },
          'serving certificate not renewed; kept the current one',
        ),
      )
      .finally(() => (this.#renewing = undefined));
    return this.#renewing;
  }

  /**
   * A new bundle always reaches the TLS context (client certificates are checked against it),
   * but the serving certificate is re-issued only if its own CA left the bundle: right after a
   * rotation, clients may not have fetched the new CA yet, and the old one stays published
   * until it expires, so the current certificate keeps verifying everywhere.
   */
  #bundleChanged(): void {
    const bundle = this.ca.bundle().certificatesPem;
    const issuer = new X509Certificate(this.#material.cert).issuer;
    if (!bundle.some((pem) => new X509Certificate(pem).subject === issuer)) {
      void this.renew();
      return;
    }
    this.#material = { ...this.#material, ca: [...bundle] };
    for (const listener of this.#listeners) listener(this.#material);
  }

  async #issue(): Promise<TlsMaterial> {
    const { authority } = this.ca.signingAuthority();
    const keyPair = generateKeyPair('ec-p256');
    const svid = await issueServerSvid({
      spiffeId: spiffeIdFromPath(this.trustDomain, SERVER_SPIFFE_PATH),
      publicKey: keyPair.publicKey,
      dnsNames: this.names.filter((name) => isIP(name) === 0),
      ipAddresses: this.names.filter((name) => isIP(name) !== 0),
      ttlSeconds: SERVING_TTL_SECONDS,
      authority,
      clock: this.clock,
    });
    const lifetime = svid.notAfter.getTime() - svid.notBefore.getTime();
    this.#renewAt = svid.notBefore.getTime() + lifetime / 2;
    return {
      key: keyPair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      cert: svid.chainPem.join(''),
      ca: [...this.ca.bundle().certificatesPem],
    };
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#unsubscribe();
  }
}
