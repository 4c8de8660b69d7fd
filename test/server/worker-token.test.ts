// HALLMARK_WORKERS=2 with a SoftHSM2 token: every worker signs SVIDs with a CA whose key is in the token.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Database } from '../../src/db/index.js';
import { keyRows, opensslVerify, tokenPrivateKeys } from '../e2e/token-inventory.js';
import type { HallmarkClient } from '../faults/support/hallmark-client.js';
import {
  startServerProcess,
  writeKubeconfig,
  type ServerProcess,
} from '../faults/support/server-process.js';
import { apiKeyToken, requestSvid, workloadKey } from '../faults/support/workload.js';
import { tempDataDir } from '../helpers/cli-process.js';
import { LIFTED_PREAUTH_LIMITS } from '../helpers/hallmark-stack.js';
import { describeWithSoftHsm } from '../hsm/describe-with-softhsm.js';
import { createSoftHsmToken, type SoftHsmToken } from '../hsm/softhsm.js';
import { startTestKubernetesApi, type TestKubernetesApi } from '../k8s-api/index.js';
import { metricValue } from './worker-processes.js';

const POLICY = 'workloads:\n  - namespace: payments\n    serviceAccount: api\n';
const SVID_ROUTE = 'method="POST",route="/v1/svid/x509",status="200"';

describeWithSoftHsm(
  'hallmark server with HALLMARK_WORKERS=2 and its keys in a SoftHSM2 token',
  () => {
    let token: SoftHsmToken;
    let k8s: TestKubernetesApi;
    let dataDir: string;
    let server: ServerProcess;
    let db: Database;
    const clients: HallmarkClient[] = [];

    beforeAll(async () => {
      token = await createSoftHsmToken('hallmark-workers');
      k8s = await startTestKubernetesApi();
      k8s.addPod({ namespace: 'payments', name: 'api-1', serviceAccountName: 'api' });
      dataDir = await tempDataDir('hallmark-workers-token-');
      server = await startServerProcess(dataDir, {
        HALLMARK_WORKERS: '2',
        HALLMARK_KUBECONFIG: await writeKubeconfig(k8s, dataDir),
        HALLMARK_RATE_LIMIT: '1000000',
        HALLMARK_PKCS11_MODULE: token.modulePath,
        HALLMARK_PKCS11_TOKEN: token.label,
        HALLMARK_PKCS11_PIN_FILE: token.pinFile,
        SOFTHSM2_CONF: token.conf,
        ...LIFTED_PREAUTH_LIMITS,
      });
      const state = JSON.parse(await readFile(path.join(dataDir, 'pg', 'state.json'), 'utf8')) as {
        port: number;
        password: string;
      };
      db = new Database(
        `postgres://postgres:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/hallmark`,
        { max: 2 },
      );
      const adminKey = (await readFile(path.join(dataDir, 'admin.key'), 'utf8')).trim();
      const admin = await apiKeyToken(server.client, 'admin', adminKey);
      expect(
        (await server.client.call('PUT', '/v1/policy', { yaml: POLICY, token: admin })).status,
      ).toBe(200);
    }, 120_000);

    afterAll(async () => {
      await db?.close();
      await Promise.all(clients.map((c) => c.close()));
      if (server && server.cli.child.exitCode === null) await server.stop('SIGTERM');
      await k8s?.close();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
      await token?.remove();
    });

    it('serves SVIDs from both workers, signed by a CA whose key is only in the token', async () => {
      const projected = await k8s.issueToken({ namespace: 'payments', podName: 'api-1' });
      const bundle = await readFile(path.join(dataDir, 'bundle.pem'), 'utf8');
      // The primary hands each new connection to the next worker: eight connections reach both.
      for (let i = 0; i < 8; i++) {
        const client = await server.freshClient();
        clients.push(client);
        const reply = await requestSvid(client, projected, workloadKey());
        expect({ status: reply.status, error: reply.body.error }).toEqual({ status: 200 });
        expect(await opensslVerify(bundle, reply.body.svid as string)).toMatch(/OK/);
      }
      const metrics = await server.client.call('GET', '/metrics');
      for (const worker of ['1', '2']) {
        expect(
          metricValue(
            metrics.body.text ?? '',
            'hallmark_http_request_duration_seconds_count',
            `${SVID_ROUTE},worker="${worker}"`,
          ),
        ).toBeGreaterThan(0);
      }
      // Keys made at first start (the CA among them) are in the token, none sealed in PostgreSQL,
      // and each row's key is a sensitive, non-extractable object of the token.
      const rows = await keyRows(db);
      const cas = rows.filter((row) => row.table === 'ca_authorities');
      expect(cas.some((row) => row.status === 'active')).toBe(true);
      expect(rows.filter((row) => row.sealed || row.tokenId === undefined)).toEqual([]);
      const objects = await tokenPrivateKeys(token);
      for (const row of rows) {
        const object = objects.find((o) => o.id === row.tokenId);
        expect(object, row.tokenId).toMatchObject({ sensitive: true, extractable: false });
      }
    }, 60_000);
  },
);
