// Provision, update, deprovision and fetch of service instances: secret scopes osb/<instance_id>/.
import { HallmarkError } from '../src/errors/index.js';
import type { BrokerCall } from './broker-call.js';
import type { BrokerContext } from './broker-context.js';
import { announceGrantChange } from './broker-grants.js';
import { checkBrokerId, scopePrefix } from './broker-ids.js';
import { instanceGateKey, lockInstance } from './broker-lock.js';
import { bindingsOf, deleteBindingsOf } from './binding-store.js';
import {
  deleteInstance,
  findInstance,
  insertInstance,
  sameInstanceAttributes,
  touchInstance,
  type InstanceAttributes,
} from './instance-store.js';
import {
  checkCatalogIds,
  checkContextPlatform,
  checkMaintenanceInfo,
  checkSameIds,
} from './request-checks.js';
import { scopeHolds, writeScope } from './scope-secrets.js';
import { readSecretsParameter } from './secrets-parameter.js';

/** A provision request (`PUT /v2/service_instances/:instance_id`). */
export interface ProvisionInput {
  readonly instanceId: string;
  readonly serviceId: string;
  readonly planId: string;
  readonly organizationGuid?: string;
  readonly spaceGuid?: string;
  readonly context?: Readonly<Record<string, unknown>>;
  readonly parameters?: unknown;
  readonly maintenanceInfo?: { version?: unknown };
}

/** An update request (`PATCH /v2/service_instances/:instance_id`). */
export interface UpdateInput {
  readonly instanceId: string;
  readonly serviceId: string;
  readonly planId?: string;
  readonly context?: Readonly<Record<string, unknown>>;
  readonly parameters?: unknown;
  readonly maintenanceInfo?: { version?: unknown };
}

/**
 * Provisions the scope `osb/<instance_id>/` with the initial secrets.
 * @see OSB 2.17 "Provisioning": 201 created; 200 if it exists with identical attributes and
 * parameters; 409 if it exists otherwise; 400 malformed or missing mandatory data; 422
 * `MaintenanceInfoConflict`. Synchronous, so `accepts_incomplete` is ignored ("Synchronous
 * Operations": brokers that respond synchronously can ignore it).
 * @returns the status, 201 or 200
 */
export async function provision(
  ctx: BrokerContext,
  call: BrokerCall,
  input: ProvisionInput,
): Promise<201 | 200> {
  const instanceId = checkBrokerId(input.instanceId, 'instance_id');
  checkCatalogIds(input.serviceId, input.planId);
  if (
    input.context === undefined &&
    (input.organizationGuid === undefined || input.spaceGuid === undefined)
  ) {
    // @see OSB 2.17 "Provisioning": organization_guid and space_guid are REQUIRED (deprecated
    // in favour of context, which replaces them).
    throw new HallmarkError('ERR_BROKER_REQUEST_INVALID', {
      message: 'organization_guid and space_guid are required when no context is sent',
    });
  }
  checkContextPlatform(call, input.context);
  const secrets = readSecretsParameter(input.parameters, ctx.maxSecretBytes);
  checkMaintenanceInfo(input.maintenanceInfo);
  const attributes: InstanceAttributes = {
    organization_guid: input.organizationGuid ?? null,
    space_guid: input.spaceGuid ?? null,
    context: input.context ?? null,
  };
  return ctx.gate.run(instanceGateKey(instanceId), () =>
    ctx.db.transaction(async (tx) => {
      await lockInstance(tx, instanceId, 'exclusive');
      const existing = await findInstance(tx, instanceId);
      if (existing !== undefined) {
        const identical =
          existing.serviceId === input.serviceId &&
          existing.planId === input.planId &&
          (await sameInstanceAttributes(tx, instanceId, attributes)) &&
          (await scopeHolds(ctx.secrets, instanceId, secrets));
        if (!identical) throw new HallmarkError('ERR_BROKER_INSTANCE_CONFLICT');
        await call.changed(ctx.audit, tx, 'unchanged');
        return 200 as const;
      }
      const now = new Date(ctx.clock.now());
      await insertInstance(
        tx,
        { instanceId, serviceId: input.serviceId, planId: input.planId, attributes },
        call.actor,
        now,
      );
      // The instance, its secrets and the audit row commit together: a provision that fails
      // half-way leaves nothing behind.
      await writeScope(ctx.secrets, instanceId, secrets, call.actor, tx);
      await call.changed(ctx.audit, tx, `secrets=${secrets.size}`);
      return 201 as const;
    }),
  );
}

/**
 * Updates parameters: each named secret gets a new version, the others stay. A plan change
 * is impossible (one plan, `plan_updateable: false`).
 * @see OSB 2.17 "Updating a Service Instance": 200 `{}`; 400; 422 `MaintenanceInfoConflict`;
 * on 4xx or 5xx no requested change may remain applied.
 */
export async function update(
  ctx: BrokerContext,
  call: BrokerCall,
  input: UpdateInput,
): Promise<void> {
  const instanceId = checkBrokerId(input.instanceId, 'instance_id');
  checkCatalogIds(input.serviceId, input.planId);
  checkContextPlatform(call, input.context);
  const secrets = readSecretsParameter(input.parameters, ctx.maxSecretBytes);
  checkMaintenanceInfo(input.maintenanceInfo);
  await ctx.gate.run(instanceGateKey(instanceId), () =>
    ctx.db.transaction(async (tx) => {
      await lockInstance(tx, instanceId, 'exclusive');
      const existing = await findInstance(tx, instanceId);
      if (existing === undefined) throw new HallmarkError('ERR_BROKER_INSTANCE_NOT_FOUND');
      checkSameIds(existing, input.serviceId, input.planId);
      if (secrets.size === 0) {
        await call.changed(ctx.audit, tx, 'unchanged');
        return;
      }
      await touchInstance(tx, instanceId, new Date(ctx.clock.now()));
      await writeScope(ctx.secrets, instanceId, secrets, call.actor, tx);
      await call.changed(ctx.audit, tx, `secrets=${secrets.size}`);
    }),
  );
}

/**
 * Deprovisions: revokes every binding's key, removes the grants, deletes the instance and
 * crypto-shreds its scope (data keys and ciphertexts), all with the audit row in one COMMIT.
 * @see OSB 2.17 "Deprovisioning": 200 `{}`; 410 if the instance does not exist; 400.
 * @returns whether grants changed (the caller reloads them after COMMIT)
 */
export async function deprovision(
  ctx: BrokerContext,
  call: BrokerCall,
  input: { instanceId: string; serviceId: string; planId: string },
): Promise<{ grantsChanged: boolean }> {
  const instanceId = checkBrokerId(input.instanceId, 'instance_id');
  checkCatalogIds(input.serviceId, input.planId);
  const { grantsChanged, afterCommit } = await ctx.gate.run(instanceGateKey(instanceId), () =>
    ctx.db.transaction(async (tx) => {
      await lockInstance(tx, instanceId, 'exclusive');
      const existing = await findInstance(tx, instanceId);
      if (existing === undefined) throw new HallmarkError('ERR_BROKER_INSTANCE_GONE');
      checkSameIds(existing, input.serviceId, input.planId);
      const bindings = await bindingsOf(tx, instanceId);
      const afterCommit: (() => void)[] = [];
      for (const binding of bindings) {
        if (binding.apiKeyId === null) continue;
        const then = await ctx.apiKeys.revoke(binding.apiKeyId, call.actor, tx);
        if (then !== undefined) afterCommit.push(then);
      }
      await deleteBindingsOf(tx, instanceId);
      if (bindings.length > 0) await announceGrantChange(tx);
      await deleteInstance(tx, instanceId);
      await ctx.secrets.deletePrefix(scopePrefix(instanceId), { tx });
      await call.changed(ctx.audit, tx, `bindings=${bindings.length}`);
      return { grantsChanged: bindings.length > 0, afterCommit };
    }),
  );
  // Only now that the revocations are committed may this replica act on them.
  for (const then of afterCommit) then();
  return { grantsChanged };
}

/**
 * The instance as the platform created it. Parameters are secret values, so none are
 * returned (@see OSB 2.17 "Fetching a Service Instance": brokers MAY omit parameters that
 * contain sensitive information).
 * @throws HallmarkError `ERR_BROKER_INSTANCE_NOT_FOUND` (404, as the spec requires)
 */
export async function fetchInstance(
  ctx: BrokerContext,
  call: BrokerCall,
  instanceId: string,
): Promise<{ service_id: string; plan_id: string }> {
  checkBrokerId(instanceId, 'instance_id');
  const existing = await findInstance(ctx.db, instanceId);
  if (existing === undefined) throw new HallmarkError('ERR_BROKER_INSTANCE_NOT_FOUND');
  await call.succeeded(ctx.audit);
  return { service_id: existing.serviceId, plan_id: existing.planId };
}

/**
 * Every operation completes before its response, so the last operation of an existing
 * instance has succeeded.
 * @see OSB 2.17 "Polling Last Operation for Service Instances": 200 with `state`; 404 if the
 * instance does not exist; 410 only for asynchronous deletes, which never happen here.
 */
export async function instanceLastOperation(
  ctx: BrokerContext,
  call: BrokerCall,
  instanceId: string,
): Promise<{ state: 'succeeded' }> {
  checkBrokerId(instanceId, 'instance_id');
  if ((await findInstance(ctx.db, instanceId)) === undefined) {
    throw new HallmarkError('ERR_BROKER_INSTANCE_NOT_FOUND');
  }
  await call.succeeded(ctx.audit);
  return { state: 'succeeded' };
}
