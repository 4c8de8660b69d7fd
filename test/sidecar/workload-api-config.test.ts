// The Workload API's pure parts: SPIFFE_ENDPOINT_SOCKET, the .proto as loaded, Struct claims and
// the error → gRPC status table.
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.js';
import { HallmarkError } from '../../src/errors/index.js';
import {
  ServerRefusal,
  grpcFailureOf,
  loadSidecarConfig,
  parseEndpointSocket,
  toProtoStruct,
  workloadApiDefinition,
} from '../../sidecar/index.js';
import { CLIENT_SERVICE } from './workload-api-client.js';

const base = { HALLMARK_SERVER_URL: 'https://hallmark.hallmark.svc:8443' };

function refusal(value: string): ConfigError {
  try {
    parseEndpointSocket(value);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`accepted ${value}`);
}

describe('SPIFFE_ENDPOINT_SOCKET', () => {
  it('defaults to agent.sock in the output directory: unix:///run/hallmark/agent.sock', () => {
    expect(loadSidecarConfig({ env: base }).workloadApiSocket).toBe('/run/hallmark/agent.sock');
    expect(
      loadSidecarConfig({ env: { ...base, HALLMARK_OUTPUT_DIR: '/srv/out/' } }).workloadApiSocket,
    ).toBe('/srv/out/agent.sock');
  });

  it('reads the variable, and the --spiffe-endpoint-socket flag over it', () => {
    const env = { ...base, SPIFFE_ENDPOINT_SOCKET: 'unix:///var/run/spiffe/api.sock' };
    expect(loadSidecarConfig({ env }).workloadApiSocket).toBe('/var/run/spiffe/api.sock');
    const flags = { SPIFFE_ENDPOINT_SOCKET: 'unix:/tmp/x.sock' };
    expect(loadSidecarConfig({ env, flags }).workloadApiSocket).toBe('/tmp/x.sock');
  });

  it.each([
    ['unix:///run/hallmark/agent.sock', '/run/hallmark/agent.sock'],
    ['unix:/run/hallmark/agent.sock', '/run/hallmark/agent.sock'],
    ['unix:///run/a%20b.sock', '/run/a b.sock'],
    ['unix:///run/x/../agent.sock', '/run/agent.sock'],
  ])('accepts %s as %s', (value, socketPath) => {
    expect(parseEndpointSocket(value)).toBe(socketPath);
  });

  it.each([
    ['/run/hallmark/agent.sock', /expected unix:/],
    ['tcp://127.0.0.1:8000', /only unix: sockets/],
    ['http://localhost/agent.sock', /scheme must be unix:/],
    ['unix://host/agent.sock', /authority/],
    ['unix://user@host/agent.sock', /authority/],
    ['unix:///agent.sock?x=1', /query or fragment/],
    ['unix:///agent.sock#x', /query or fragment/],
    ['unix:relative.sock', /absolute/],
    ['unix:///run/hallmark/', /absolute and name a file/],
    ['unix:///run/%E0%A4%A.sock', /percent-encoding/],
    [`unix:///${'d'.repeat(120)}`, /longer than 107 bytes/],
  ])('refuses %s naming the variable', (value, problem) => {
    const err = refusal(value);
    expect(err.code).toBe('ERR_CONFIG_INVALID');
    expect(err.variable).toBe('SPIFFE_ENDPOINT_SOCKET');
    expect(err.message).toMatch(problem);
  });

  it('refuses a default path too long for a socket, naming the variable to set', () => {
    expect(() =>
      loadSidecarConfig({ env: { ...base, HALLMARK_OUTPUT_DIR: `/${'o'.repeat(110)}` } }),
    ).toThrow(/^SPIFFE_ENDPOINT_SOCKET: socket path .* is longer than 107 bytes$/);
  });
});

describe('workloadapi.proto', () => {
  it('defines SpiffeWorkloadAPI with no package, so paths are /SpiffeWorkloadAPI/<method>', () => {
    const definition = workloadApiDefinition();
    const paths = Object.fromEntries(
      Object.entries(definition).map(([name, method]) => [name, method.path]),
    );
    expect(paths).toEqual({
      FetchX509SVID: '/SpiffeWorkloadAPI/FetchX509SVID',
      FetchX509Bundles: '/SpiffeWorkloadAPI/FetchX509Bundles',
      FetchJWTSVID: '/SpiffeWorkloadAPI/FetchJWTSVID',
      FetchJWTBundles: '/SpiffeWorkloadAPI/FetchJWTBundles',
      ValidateJWTSVID: '/SpiffeWorkloadAPI/ValidateJWTSVID',
      FetchWITSVID: '/SpiffeWorkloadAPI/FetchWITSVID',
      FetchWITBundles: '/SpiffeWorkloadAPI/FetchWITBundles',
    });
    const streams = Object.entries(CLIENT_SERVICE)
      .filter(([, method]) => method.responseStream)
      .map(([name]) => name);
    expect(streams).toEqual([
      'FetchX509SVID',
      'FetchX509Bundles',
      'FetchJWTBundles',
      'FetchWITSVID',
      'FetchWITBundles',
    ]);
  });

  it('encodes field numbers as upstream: X509SVID spiffe_id=1, x509_svid=2, x509_svid_key=3, bundle=4, hint=5', () => {
    const encode = workloadApiDefinition().FetchX509SVID!.responseSerialize;
    const bytes = encode({
      svids: [
        {
          spiffe_id: 'a',
          x509_svid: Buffer.from([1]),
          x509_svid_key: Buffer.from([2]),
          bundle: Buffer.from([3]),
          hint: 'h',
        },
      ],
      crl: [Buffer.from([4])],
      federated_bundles: { b: Buffer.from([5]) },
    });
    // Tag bytes are (field number << 3) | wire type 2 (length-delimited).
    expect([...bytes]).toEqual([
      ...[0x0a, 15, 0x0a, 1, 0x61, 0x12, 1, 1, 0x1a, 1, 2, 0x22, 1, 3, 0x2a, 1, 0x68],
      ...[0x12, 1, 4],
      ...[0x1a, 6, 0x0a, 1, 0x62, 0x12, 1, 5],
    ]);
  });
});

describe('toProtoStruct', () => {
  it('maps every JSON kind to its google.protobuf.Value', () => {
    expect(
      toProtoStruct({ s: 'x', n: 1.5, b: false, z: null, o: { a: [1, 'y'] }, u: undefined }),
    ).toEqual({
      fields: {
        s: { stringValue: 'x' },
        n: { numberValue: 1.5 },
        b: { boolValue: false },
        z: { nullValue: 'NULL_VALUE' },
        o: {
          structValue: {
            fields: {
              a: { listValue: { values: [{ numberValue: 1 }, { stringValue: 'y' }] } },
            },
          },
        },
      },
    });
  });

  it('refuses what JSON cannot hold and absurd nesting', () => {
    expect(() => toProtoStruct({ f: () => 1 })).toThrow(RangeError);
    expect(() => toProtoStruct({ n: Number.NaN })).toThrow(RangeError);
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(() => toProtoStruct({ deep })).toThrow(/nested too deeply/);
  });
});

describe('grpcFailureOf', () => {
  it.each([
    [new HallmarkError('ERR_WORKLOADAPI_HEADER_MISSING'), status.INVALID_ARGUMENT],
    [new HallmarkError('ERR_WORKLOADAPI_REQUEST_INVALID'), status.INVALID_ARGUMENT],
    [new HallmarkError('ERR_JWTSVID_EXPIRED'), status.INVALID_ARGUMENT],
    [new HallmarkError('ERR_SPIFFE_ID_INVALID'), status.INVALID_ARGUMENT],
    [new HallmarkError('ERR_WORKLOADAPI_SVID_UNAVAILABLE'), status.UNAVAILABLE],
    [new HallmarkError('ERR_WORKLOADAPI_STOPPING'), status.UNAVAILABLE],
    [new HallmarkError('ERR_SIDECAR_SERVER_UNREACHABLE'), status.UNAVAILABLE],
    [new HallmarkError('ERR_WORKLOADAPI_NOT_ENTITLED'), status.PERMISSION_DENIED],
    [new HallmarkError('ERR_SIDECAR_BAD_RESPONSE'), status.INTERNAL],
    [new ServerRefusal('ERR_JWTSVID_AUDIENCE_INVALID', 400, 'x'), status.INVALID_ARGUMENT],
    [new ServerRefusal('ERR_AUTHN_CLIENT_CERT_INVALID', 401, 'x'), status.PERMISSION_DENIED],
    [new ServerRefusal('ERR_POLICY_NO_REGISTRATION', 403, 'x'), status.PERMISSION_DENIED],
    [new ServerRefusal('ERR_REQUEST_NOT_FOUND', 404, 'x'), status.UNIMPLEMENTED],
    [new ServerRefusal('ERR_REQUEST_RATE_LIMITED', 429, 'x'), status.UNAVAILABLE],
    [new ServerRefusal('ERR_JWTSVID_AUTHORITY_UNAVAILABLE', 503, 'x'), status.UNAVAILABLE],
  ])('%s → %s', (err, code) => {
    expect(grpcFailureOf(err)).toEqual({ code, details: `${err.code}: ${err.message}` });
  });

  it('never sends the detail, nor anything from an unexpected error', () => {
    const err = new HallmarkError('ERR_SIDECAR_SERVER_UNREACHABLE', { detail: 'secret-ish' });
    expect(grpcFailureOf(err).details).not.toContain('secret-ish');
    expect(grpcFailureOf(new Error('/etc/passwd'))).toEqual({
      code: status.INTERNAL,
      details: 'ERR_INTERNAL: internal error',
    });
  });
});
