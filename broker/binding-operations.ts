// Bind, unbind and fetch of service bindings: read grants on an instance scope for one identity.
import { HallmarkError } from '../src/errors/index.js';
import { apiKeyIdentity } from '../src/policy/index.js';
import { workloadSpiffeId } from '../src/spiffe/index.js';
import type { BrokerCall } from './broker-call.js';
import type { BrokerContext } from './broker-context.js';
import { announceGrantChange } from './broker-grants.js';
import { checkBrokerId, newApiKeyId, scopePrefix } from './broker-ids.js';
import { instanceGateKey, lockBinding, lockInstance } from './broker-lock.js';
import { contextNamespace, readBindingParameters } from './binding-parameters.js';
import {
  deleteBinding,
  findBinding,
  insertBinding,
  sameBindingAttributes,
  type BindingAttributes,
  type BindingRecord,
} from './binding-store.js';
import { findInstance } from './instance-store.js';
import { checkCatalogIds, checkContextPlatform, checkSameIds } from './request-checks.js';

/** A bind request (`PUT /v2/service_instances/:instance_id/service_bindings/:binding_id`). */
export interface BindInput {
  readonly instanceId: string;
  readonly bindingId: string;
  readonly serviceId: string;
  readonly planId: string;
  readonly appGuid?: string;
  readonly bindResource?: Readonly<Record<string, unknown>>;
  readonly context?: Readonly<Record<string, unknown>>;
  readonly parameters?: unknown;
  readonly predecessorBindingId?: string;
}

/** What an app needs to read its instance's secrets. `api_key` only in the creating response. */
export interface BindingCredentials {
  url: string;
  trust_domain: string;
  /** `key:<id>` (log in with `POST /v1/authn/apikey {"id": <id>, "api_key"}`) or a SPIFFE ID. */
  identity: string;
  api_key?: string;
  /** PEM CA certificates that sign the server. */
  bundle: string;
  /** Every secret of the instance is below this path. */
  secrets_prefix: string;
}

/** Result of a bind: status, credentials, and whether grants changed. */
export interface BindResult {
  readonly status: 201 | 200;
  readonly credentials: BindingCredentials;
  readonly grantsChanged: boolean;
}

/**
 * Creates a binding: a new API-key identity (default) or a Kubernetes workload's SPIFFE ID,
 * granted `read` on `osb/<instance_id>/*`.
 * @see OSB 2.17 "Binding": 201 created; 200 if it exists with identical parameters; 409 if
 * the id exists otherwise; 400. A broker MAY return binding information only once — the API
 * key exists only as a hash after the 201, so repeats and fetches return it without the key.
 */
export async function bind(
  ctx: BrokerContext,
  call: BrokerCall,
  input: BindInput,
): Promise<BindResult> {
  const instanceId = checkBrokerId(input.instanceId, 'instance_id');
  const bindingId = checkBrokerId(input.bindingId, 'binding_id');
  checkCatalogIds(input.serviceId, input.planId);
  if (input.predecessorBindingId !== undefined) {
    // @see OSB 2.17 "Binding Rotation": the plan declares binding_rotatable false, so a
    // Platform MUST NOT send a rotation request.
    throw new HallmarkError('ERR_BROKER_REQUEST_INVALID', {
      message: 'binding rotation is not supported by this plan (binding_rotatable is false)',
    });
  }
  checkContextPlatform(call, input.context);
  const subject = readBindingParameters(input.parameters);
  const workloadIdentity =
    subject.kind === 'workload'
      ? workloadSpiffeId(ctx.trustDomain, subject.namespace, subject.serviceAccount).toString()
      : undefined;
  const attributes: BindingAttributes = {
    service_id: input.serviceId,
    plan_id: input.planId,
    app_guid: input.appGuid ?? null,
    bind_resource: input.bindResource ?? null,
    context: input.context ?? null,
    parameters:
      subject.kind === 'workload'
        ? { namespace: subject.namespace, serviceAccount: subject.serviceAccount }
        : null,
  };
  return ctx.gate.run(instanceGateKey(instanceId), () =>
    ctx.db.transaction(async (tx) => {
      await lockInstance(tx, instanceId, 'shared');
      await lockBinding(tx, bindingId);
      const instance = await findInstance(tx, instanceId);
      if (instance === undefined) throw new HallmarkError('ERR_BROKER_INSTANCE_NOT_FOUND');
      checkSameIds(instance, input.serviceId, input.planId);
      const existing = await findBinding(tx, bindingId);
      if (existing !== undefined) {
        if (
          existing.instanceId !== instanceId ||
          !(await sameBindingAttributes(tx, bindingId, attributes))
        ) {
          throw new HallmarkError('ERR_BROKER_BINDING_CONFLICT');
        }
        await call.changed(ctx.audit, tx, `identity=${existing.identity} unchanged`);
        return {
          status: 200,
          credentials: credentialsOf(ctx, existing),
          grantsChanged: false,
        } as const;
      }
      let apiKey: string | undefined;
      let apiKeyId: string | null = null;
      let identity = workloadIdentity;
      if (identity === undefined) {
        apiKeyId = newApiKeyId(bindingId);
        identity = apiKeyIdentity(apiKeyId);
        if (identity === undefined)
          throw new HallmarkError('ERR_INTERNAL', { detail: 'derived API key id invalid' });
        apiKey = await ctx.apiKeys.create(apiKeyId, call.actor, tx);
      }
      const record: BindingRecord = {
        bindingId,
        instanceId,
        kind: subject.kind,
        identity,
        apiKeyId,
        attributes,
      };
      await insertBinding(tx, record, call.actor, new Date(ctx.clock.now()));
      await announceGrantChange(tx);
      const namespace = contextNamespace(input.context);
      await call.changed(
        ctx.audit,
        tx,
        namespace === undefined
          ? `identity=${identity}`
          : `identity=${identity} namespace=${namespace}`,
      );
      return {
        status: 201,
        credentials: credentialsOf(ctx, record, apiKey),
        grantsChanged: true,
      } as const;
    }),
  );
}

/**
 * Deletes a binding: revokes its API key (tokens issued to it fail at once, everywhere) and
 * removes its grant.
 * @see OSB 2.17 "Unbinding": 200 `{}`; 410 if the binding does not exist; 400.
 */
export async function unbind(
  ctx: BrokerContext,
  call: BrokerCall,
  input: { instanceId: string; bindingId: string; serviceId: string; planId: string },
): Promise<{ grantsChanged: boolean }> {
  const instanceId = checkBrokerId(input.instanceId, 'instance_id');
  const bindingId = checkBrokerId(input.bindingId, 'binding_id');
  checkCatalogIds(input.serviceId, input.planId);
  const applyRevocation = await ctx.gate.run(instanceGateKey(instanceId), () =>
    ctx.db.transaction(async (tx) => {
      await lockInstance(tx, instanceId, 'shared');
      await lockBinding(tx, bindingId);
      const existing = await findBinding(tx, bindingId);
      if (existing === undefined || existing.instanceId !== instanceId) {
        throw new HallmarkError('ERR_BROKER_BINDING_GONE');
      }
      checkSameIds(
        { serviceId: existing.attributes.service_id, planId: existing.attributes.plan_id },
        input.serviceId,
        input.planId,
      );
      const then =
        existing.apiKeyId === null
          ? undefined
          : await ctx.apiKeys.revoke(existing.apiKeyId, call.actor, tx);
      await deleteBinding(tx, bindingId);
      await announceGrantChange(tx);
      await call.changed(ctx.audit, tx, `identity=${existing.identity}`);
      return then;
    }),
  );
  // Only now that the revocation is committed may this replica act on it.
  applyRevocation?.();
  return { grantsChanged: true };
}

/**
 * The binding, with credentials minus the API key and the parameters it was created with.
 * @see OSB 2.17 "Fetching a Service Binding": 200; 404 if it does not exist. Credentials are
 * only required here for bindings created asynchronously, which never happens.
 */
export async function fetchBinding(
  ctx: BrokerContext,
  call: BrokerCall,
  instanceId: string,
  bindingId: string,
): Promise<{ credentials: BindingCredentials; parameters: Readonly<Record<string, unknown>> }> {
  const existing = await existingBinding(ctx, instanceId, bindingId);
  await call.succeeded(ctx.audit);
  return {
    credentials: credentialsOf(ctx, existing),
    parameters: existing.attributes.parameters ?? {},
  };
}

/**
 * Bindings are created before the response, so the last operation of an existing one has
 * succeeded. @see OSB 2.17 "Polling Last Operation for Service Bindings": 200; 404 if absent.
 */
export async function bindingLastOperation(
  ctx: BrokerContext,
  call: BrokerCall,
  instanceId: string,
  bindingId: string,
): Promise<{ state: 'succeeded' }> {
  await existingBinding(ctx, instanceId, bindingId);
  await call.succeeded(ctx.audit);
  return { state: 'succeeded' };
}

async function existingBinding(
  ctx: BrokerContext,
  instanceId: string,
  bindingId: string,
): Promise<BindingRecord> {
  checkBrokerId(instanceId, 'instance_id');
  checkBrokerId(bindingId, 'binding_id');
  const existing = await findBinding(ctx.db, bindingId);
  if (existing === undefined || existing.instanceId !== instanceId) {
    throw new HallmarkError('ERR_BROKER_BINDING_NOT_FOUND');
  }
  return existing;
}

function credentialsOf(
  ctx: BrokerContext,
  binding: BindingRecord,
  apiKey?: string,
): BindingCredentials {
  const credentials: BindingCredentials = {
    url: ctx.serverUrl(),
    trust_domain: ctx.trustDomain,
    identity: binding.identity,
    bundle: ctx.bundlePem(),
    secrets_prefix: scopePrefix(binding.instanceId),
  };
  if (apiKey !== undefined) credentials.api_key = apiKey;
  return credentials;
}
