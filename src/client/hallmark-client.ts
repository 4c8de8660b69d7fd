// The typed HTTPS client of the v1 API: one method per route of docs/http-api.md.
import {
  ResponseObject,
  type AccessToken,
  type AuditEventView,
  type AuditPage,
  type CaAuthorityView,
  type CaDistrusted,
  type JwtSvidResponse,
  type PolicyDocument,
  type PolicyVersion,
  type SecretResponse,
  type SecretWriteResponse,
  type SpiffeBundle,
  type X509SvidResponse,
} from './api-responses.js';
import { HallmarkClientError } from './client-error.js';
import { HttpTransport, type TransportOptions } from './http-transport.js';
import { secretTarget } from './secret-url.js';

/** Supplies the access token for calls that need one (re-read per call by the caller's choice). */
export type AccessTokenSource = () => string | Promise<string>;

/** Options of {@link HallmarkClient}. */
export interface HallmarkClientOptions extends TransportOptions {
  /** Access token for secret, policy and audit calls. */
  token?: AccessTokenSource;
}

/**
 * A client of one Hallmark server. Trusts only the given CA bundle; presents the client
 * certificate, if given, for mutual-TLS routes; bounds every call by `timeoutMs`. Failures
 * are {@link HallmarkClientError}s carrying the server's code and HTTP status.
 */
export class HallmarkClient {
  readonly #http: HttpTransport;
  readonly #token: AccessTokenSource | undefined;

  constructor(options: HallmarkClientOptions) {
    this.#http = new HttpTransport(options);
    this.#token = options.token;
  }

  /** `GET /v1/bundle`: the SPIFFE bundle as JWKS. */
  async bundle(): Promise<SpiffeBundle> {
    const body = await this.#json('GET', '/v1/bundle', 'bundle');
    return {
      keys: body.objects('keys'),
      sequence: body.integer('spiffe_sequence'),
      refreshHint: body.integer('spiffe_refresh_hint'),
    };
  }

  /** `GET /v1/bundle` with `Accept: application/x-pem-file`: the CA certificates as PEM. */
  async bundlePem(): Promise<string> {
    const response = await this.#http.send({
      method: 'GET',
      path: '/v1/bundle',
      headers: { accept: 'application/x-pem-file' },
    });
    if (!response.body.includes('-----BEGIN CERTIFICATE-----')) {
      throw new HallmarkClientError('ERR_CLIENT_BAD_RESPONSE', 'bundle: no PEM certificates');
    }
    return response.body;
  }

  /**
   * The OIDC discovery documents as served, byte for byte (`hallmark oidc export` writes them
   * for static hosting): `GET /.well-known/openid-configuration` and the `jwks_uri` it names,
   * which must be the issuer's `/.well-known/jwks.json` so the exported layout is the served one.
   */
  async oidcDocuments(): Promise<{ issuer: string; discovery: string; jwks: string }> {
    const discovery = await this.#http.send({
      method: 'GET',
      path: '/.well-known/openid-configuration',
    });
    const metadata = ResponseObject.parse(discovery.body, 'openid configuration');
    const issuer = metadata.string('issuer');
    if (metadata.string('jwks_uri') !== `${issuer}/.well-known/jwks.json`) {
      throw new HallmarkClientError(
        'ERR_CLIENT_BAD_RESPONSE',
        "openid configuration: jwks_uri is not the issuer's /.well-known/jwks.json",
      );
    }
    const jwks = await this.#http.send({ method: 'GET', path: '/.well-known/jwks.json' });
    ResponseObject.parse(jwks.body, 'jwks').objects('keys');
    return { issuer, discovery: discovery.body, jwks: jwks.body };
  }

  /**
   * `POST /v1/svid/x509`: trades a projected ServiceAccount token and a PKCS#10 CSR (PEM) for
   * an X509-SVID. The CSR contributes only its public key; the identity comes from the token.
   */
  async issueX509Svid(serviceAccountToken: string, csrPem: string): Promise<X509SvidResponse> {
    const body = await this.#json('POST', '/v1/svid/x509', 'x509 svid', {
      json: { csr: csrPem },
      bearer: serviceAccountToken,
    });
    return {
      spiffeId: body.string('spiffe_id'),
      svid: body.string('svid'),
      expiresAt: body.date('expires_at'),
      bundle: body.string('bundle'),
      federatedBundles: body.objectMap('federated_bundles'),
    };
  }

  /**
   * `GET /v1/bundle/federated` over mutual TLS (the client certificate is the SVID): the
   * bundles of the foreign trust domains the caller's registration federates with, by name.
   */
  async federatedBundles(): Promise<Map<string, Readonly<Record<string, unknown>>>> {
    const body = await this.#json('GET', '/v1/bundle/federated', 'federated bundles');
    return body.objectMap('federated_bundles');
  }

  /** `POST /v1/svid/jwt` over mutual TLS (the client certificate is the SVID). */
  async issueJwtSvid(audience: readonly string[]): Promise<JwtSvidResponse> {
    const body = await this.#json('POST', '/v1/svid/jwt', 'jwt svid', {
      json: { audience: [...audience] },
    });
    return {
      spiffeId: body.string('spiffe_id'),
      token: body.string('token'),
      expiresAt: body.date('expires_at'),
    };
  }

  /** `POST /v1/authn/login` over mutual TLS: the SVID presented is traded for an access token. */
  async login(): Promise<AccessToken> {
    const body = await this.#json('POST', '/v1/authn/login', 'login', { json: {} });
    return { token: body.string('token'), expiresAt: body.date('expires_at') };
  }

  /** `POST /v1/authn/apikey`: an API key (admin, broker binding) traded for an access token. */
  async loginWithApiKey(id: string, apiKey: string): Promise<AccessToken> {
    const body = await this.#json('POST', '/v1/authn/apikey', 'api key login', {
      json: { id, api_key: apiKey },
    });
    return { token: body.string('token'), expiresAt: body.date('expires_at') };
  }

  /** `GET /v1/secrets/<path>[?version=N]`. */
  async getSecret(path: string, version?: number): Promise<SecretResponse> {
    const query = version === undefined ? '' : `?version=${encodeURIComponent(String(version))}`;
    const body = await this.#json('GET', `${secretTarget(path)}${query}`, 'secret', {
      auth: true,
    });
    const answer = {
      path: body.string('path'),
      version: body.integer('version'),
      value: body.string('value'),
    };
    if (answer.path !== path) {
      throw new HallmarkClientError(
        'ERR_CLIENT_BAD_RESPONSE',
        'secret: answer is for another path',
      );
    }
    return answer;
  }

  /**
   * `POST /v1/secrets/batch`: every path or nothing. The map has exactly the paths asked for
   * (an answer missing one, or naming another, is refused as a bad response).
   */
  async getSecrets(paths: readonly string[]): Promise<Map<string, string>> {
    // The server refuses duplicates; asking twice for one path is harmless here.
    const asked = new Set(paths);
    const body = await this.#json('POST', '/v1/secrets/batch', 'secrets', {
      json: { paths: [...asked] },
      auth: true,
    });
    const secrets = body.stringMap('secrets');
    if (secrets.size !== asked.size || [...asked].some((path) => !secrets.has(path))) {
      throw new HallmarkClientError(
        'ERR_CLIENT_BAD_RESPONSE',
        'secrets: answer does not match the paths asked',
      );
    }
    return secrets;
  }

  /** `PUT /v1/secrets/<path>`: writes a new version. */
  async putSecret(path: string, value: string): Promise<SecretWriteResponse> {
    const body = await this.#json('PUT', secretTarget(path), 'secret write', {
      json: { value },
      auth: true,
    });
    return { path: body.string('path'), version: body.integer('version') };
  }

  /** `PUT /v1/policy` (admin): loads a YAML policy document as a whole. */
  async putPolicy(yaml: string): Promise<PolicyVersion> {
    const body = await this.#json('PUT', '/v1/policy', 'policy load', {
      text: yaml,
      contentType: 'application/yaml',
      auth: true,
    });
    return { version: body.integer('version'), sha256: body.string('sha256') };
  }

  /** `GET /v1/policy` (admin): the document in force. */
  async getPolicy(): Promise<PolicyDocument> {
    const body = await this.#json('GET', '/v1/policy', 'policy', { auth: true });
    return {
      version: body.integer('version'),
      sha256: body.string('sha256'),
      document: body.string('document'),
    };
  }

  /** `POST /v1/ca/rotate` (admin): prepares and activates a new CA at once. */
  async rotateCa(): Promise<{ active_ca: number; spiffe_sequence: number }> {
    const body = await this.#json('POST', '/v1/ca/rotate', 'ca rotate', { auth: true });
    return {
      active_ca: body.integer('active_ca'),
      spiffe_sequence: body.integer('spiffe_sequence'),
    };
  }

  /**
   * `POST /v1/ca/distrust` (admin): removes CA `id` from the bundle at once and refuses the
   * SVIDs it signed; the signing CA only with `rotate` (a new CA is activated in the same step).
   */
  async distrustCa(id: number, options: { rotate?: boolean } = {}): Promise<CaDistrusted> {
    const body = await this.#json('POST', '/v1/ca/distrust', 'ca distrust', {
      json: { ca_id: id, ...(options.rotate ? { rotate: true } : {}) },
      auth: true,
    });
    return {
      distrustedCa: body.integer('distrusted_ca'),
      changed: body.boolean('changed'),
      activeCa: body.integer('active_ca'),
      sequence: body.integer('spiffe_sequence'),
    };
  }

  /** `GET /v1/ca/authorities` (admin): every CA, oldest first, with its status. */
  async caAuthorities(): Promise<CaAuthorityView[]> {
    const body = await this.#json('GET', '/v1/ca/authorities', 'ca list', { auth: true });
    return body.objects('authorities').map((fields) => {
      const ca = new ResponseObject(fields, 'ca authority');
      return {
        id: ca.integer('id'),
        status: ca.string('status'),
        notBefore: ca.date('not_before'),
        notAfter: ca.date('not_after'),
        distrustedAt: ca.nullableDate('distrusted_at'),
        certificate: ca.string('certificate'),
      };
    });
  }

  /**
   * `GET /v1/audit?after=N[&limit=M]` (admin): audit rows with `seq > after`, oldest first;
   * pass the returned `next` as `after` for the following page.
   */
  async auditEvents(after: number, limit?: number): Promise<AuditPage> {
    if (!Number.isSafeInteger(after) || after < 0) {
      throw new RangeError('after must be a non-negative integer');
    }
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
      throw new RangeError('limit must be a positive integer');
    }
    const query = `after=${after}${limit === undefined ? '' : `&limit=${limit}`}`;
    const body = await this.#json('GET', `/v1/audit?${query}`, 'audit', { auth: true });
    const events = body.objects('events').map((fields): AuditEventView => {
      const event = new ResponseObject(fields, 'audit event');
      return {
        seq: event.integer('seq'),
        time: event.string('time'),
        actor: event.string('actor'),
        action: event.string('action'),
        target: event.string('target'),
        outcome: event.string('outcome'),
        reason: event.string('reason'),
        request_id: event.string('request_id'),
        prev_hash: event.string('prev_hash'),
        hash: event.string('hash'),
      };
    });
    return { events, next: body.integer('next') };
  }

  /** `POST /v1/apikeys/admin/rotate`: a new admin API key (shown once); the old one stops working. */
  async rotateAdminKey(): Promise<{ apiKey: string; createdAt: Date }> {
    const body = await this.#json('POST', '/v1/apikeys/admin/rotate', 'admin key rotate', {
      auth: true,
    });
    return { apiKey: body.string('api_key'), createdAt: body.date('created_at') };
  }

  /**
   * `POST /v1/compliance`: every compliance control evaluated by the server, with what the
   * caller supplies (manifests, a dependency audit). The report as JSON, unchecked here.
   */
  async complianceReport(inputs: object): Promise<Readonly<Record<string, unknown>>> {
    const body = await this.#json('POST', '/v1/compliance', 'compliance report', {
      auth: true,
      json: inputs,
    });
    return body.all();
  }

  /** `GET /v1/audit/keys`: the JWKS of the audit checkpoint keys, which sign reports. */
  async auditKeys(): Promise<{ keys: readonly Readonly<Record<string, unknown>>[] }> {
    const body = await this.#json('GET', '/v1/audit/keys', 'audit keys');
    return { keys: body.objects('keys') };
  }

  /** Closes the connection pool. */
  close(): Promise<void> {
    return this.#http.close();
  }

  async #json(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    what: string,
    options: {
      json?: unknown;
      text?: string;
      contentType?: string;
      auth?: boolean;
      bearer?: string;
    } = {},
  ): Promise<ResponseObject> {
    const headers: Record<string, string> = {};
    const bearer = options.bearer ?? (options.auth ? await this.#accessToken() : undefined);
    if (bearer !== undefined) headers['authorization'] = `Bearer ${bearer}`;
    const response = await this.#http.send({
      method,
      path,
      headers,
      json: options.json,
      text: options.text,
      contentType: options.contentType,
    });
    return ResponseObject.parse(response.body, what);
  }

  async #accessToken(): Promise<string> {
    if (this.#token === undefined) {
      throw new HallmarkClientError(
        'ERR_CLIENT_TOKEN_UNAVAILABLE',
        'this call needs an access token; none was configured',
      );
    }
    const token = await this.#token();
    // A token with a line break would split the header; refuse it here with a clear code.
    if (token === '' || /[\s]/.test(token)) {
      throw new HallmarkClientError(
        'ERR_CLIENT_TOKEN_UNAVAILABLE',
        'the access token is empty or malformed',
      );
    }
    return token;
  }
}
