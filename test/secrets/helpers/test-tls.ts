// Throwaway TLS material for tests: a CA, a 127.0.0.1 server certificate and a client certificate.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** PEM material made by {@link makeTestTls}. */
export interface TestTls {
  caPem: string;
  serverKeyPem: string;
  serverCertPem: string;
  clientKeyPem: string;
  clientCertPem: string;
  /** A second, unrelated CA (for "untrusted server" tests). */
  otherCaPem: string;
}

/**
 * Builds the material with the openssl CLI (P-256 keys): the project's own x509 module is
 * not what these tests are about, and openssl output is an independent reference.
 */
export function makeTestTls(): TestTls {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hallmark-test-tls-'));
  const file = (name: string): string => path.join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
  };
  try {
    for (const ca of ['ca', 'other-ca']) {
      openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', file(`${ca}.key`));
      openssl(
        'req',
        '-x509',
        '-new',
        '-key',
        file(`${ca}.key`),
        '-subj',
        `/CN=hallmark test ${ca}`,
        '-days',
        '2',
        '-sha256',
        '-out',
        file(`${ca}.pem`),
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      );
    }
    const leaf = (name: string, subject: string, extensions: string): void => {
      openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', file(`${name}.key`));
      openssl(
        'req',
        '-new',
        '-key',
        file(`${name}.key`),
        '-subj',
        subject,
        '-out',
        file(`${name}.csr`),
      );
      writeFileSync(file(`${name}.ext`), extensions);
      openssl(
        'x509',
        '-req',
        '-in',
        file(`${name}.csr`),
        '-CA',
        file('ca.pem'),
        '-CAkey',
        file('ca.key'),
        '-CAcreateserial',
        '-days',
        '1',
        '-sha256',
        '-extfile',
        file(`${name}.ext`),
        '-out',
        file(`${name}.pem`),
      );
    };
    leaf(
      'server',
      '/CN=127.0.0.1',
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
    );
    leaf(
      'client',
      '/CN=workload',
      'subjectAltName=URI:spiffe://hallmark.local/ns/payments/sa/api\nextendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n',
    );
    const read = (name: string): string => readFileSync(file(name), 'utf8');
    return {
      caPem: read('ca.pem'),
      serverKeyPem: read('server.key'),
      serverCertPem: read('server.pem'),
      clientKeyPem: read('client.key'),
      clientCertPem: read('client.pem'),
      otherCaPem: read('other-ca.pem'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
