// Starts the checkpoint keyring and the checkpointer together: what the composition root wires.
import type { Registry } from 'prom-client';
import type { AuditLog } from '../audit/index.js';
import type { Clock } from '../clock/index.js';
import type { MasterKey } from '../crypto/index.js';
import type { Database } from '../db/index.js';
import type { KeyVault } from '../keyring/index.js';
import { AuditCheckpointer, type CheckpointLogger } from './audit-checkpointer.js';
import { DEFAULT_CHECKPOINT_CADENCE, type CheckpointCadence } from './checkpoint-cadence.js';
import { CheckpointKeyring } from './checkpoint-keyring.js';

/** What {@link startAuditCheckpoints} needs. */
export interface AuditCheckpointsDeps {
  readonly db: Database;
  readonly master: MasterKey;
  /** Where new checkpoint keys are made: sealed (default) or in the PKCS#11 token. */
  readonly vault?: KeyVault;
  readonly clock: Clock;
  readonly audit: AuditLog;
  readonly log: CheckpointLogger;
  readonly metrics: Registry;
  readonly trustDomain: string;
  readonly intervalMs: number;
  readonly keyRotationMs: number;
  /** Default 10,000 rows. */
  readonly maxRows?: number;
  /** `false`: no tickers (tests drive rounds and rotation by hand). */
  readonly tick?: boolean;
}

/** The running checkpoints: the keyring (JWKS, detached signatures) and the checkpointer. */
export interface AuditCheckpoints {
  readonly keyring: CheckpointKeyring;
  readonly checkpointer: AuditCheckpointer;
  stop(): Promise<void>;
}

/** Loads (or creates) the checkpoint key, then starts signing the head on its cadence. */
export async function startAuditCheckpoints(deps: AuditCheckpointsDeps): Promise<AuditCheckpoints> {
  const { db, master, vault, clock, audit, log } = deps;
  const keyring = await CheckpointKeyring.start(
    { db, master, vault, clock, audit, log },
    { rotationPeriodMs: deps.keyRotationMs, tick: deps.tick },
  );
  const cadence: CheckpointCadence = {
    intervalMs: deps.intervalMs,
    maxRows: deps.maxRows ?? DEFAULT_CHECKPOINT_CADENCE.maxRows,
  };
  const checkpointer = new AuditCheckpointer({
    db,
    keyring,
    clock,
    log,
    metrics: deps.metrics,
    trustDomain: deps.trustDomain,
    cadence,
  });
  if (deps.tick !== false) checkpointer.start();
  return {
    keyring,
    checkpointer,
    async stop() {
      await checkpointer.stop();
      keyring.stop();
    },
  };
}
