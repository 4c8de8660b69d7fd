// Routes of /v2/service_instances/:instance_id (provision, update, deprovision, fetch, last_operation).
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts';
import type { FastifyInstance } from 'fastify';
import { requireCall } from './broker-call.js';
import { requestMaintenanceInfo } from './catalog-versions.js';
import type { BrokerContext } from './broker-context.js';
import type { BrokerRouteConfig } from './broker-hooks.js';
import {
  deprovision,
  fetchInstance,
  instanceLastOperation,
  provision,
  update,
} from './instance-operations.js';
import {
  deleteQuery,
  emptyResponses,
  fetchInstanceResponses,
  hintQuery,
  instanceParams,
  lastOperationResponses,
  provisionBody,
  updateBody,
} from './route-schemas.js';

/**
 * Largest provision or update body: up to 100 secrets of 64 KiB, which JSON escaping can
 * grow. Only authenticated requests get this far (the checks run before the body is read).
 */
export const INSTANCE_BODY_LIMIT = 16 * 1024 * 1024;

function config(osbAction: BrokerRouteConfig['osbAction']): BrokerRouteConfig {
  return { osbAction };
}

/** Registers the instance routes on the broker scope. */
export function registerInstanceRoutes(scope: FastifyInstance, ctx: BrokerContext): void {
  // Bodies, queries and params typed from the schemas in route-schemas.ts.
  const app = scope.withTypeProvider<JsonSchemaToTsProvider>();
  app.put(
    '/service_instances/:instance_id',
    {
      bodyLimit: INSTANCE_BODY_LIMIT,
      config: config('osb.provision'),
      schema: { params: instanceParams, body: provisionBody, response: emptyResponses },
    },
    async (request, reply) => {
      const body = request.body;
      const call = requireCall(request);
      const status = await provision(ctx, call, {
        instanceId: request.params.instance_id,
        serviceId: body.service_id,
        planId: body.plan_id,
        organizationGuid: body.organization_guid,
        spaceGuid: body.space_guid,
        context: body.context,
        parameters: body.parameters,
        maintenanceInfo: requestMaintenanceInfo(call.apiVersion, body.maintenance_info),
      });
      return reply.code(status).send({});
    },
  );

  app.patch(
    '/service_instances/:instance_id',
    {
      bodyLimit: INSTANCE_BODY_LIMIT,
      config: config('osb.update'),
      schema: { params: instanceParams, body: updateBody, response: emptyResponses },
    },
    async (request, reply) => {
      const body = request.body;
      const call = requireCall(request);
      await update(ctx, call, {
        instanceId: request.params.instance_id,
        serviceId: body.service_id,
        planId: body.plan_id,
        context: body.context,
        parameters: body.parameters,
        maintenanceInfo: requestMaintenanceInfo(call.apiVersion, body.maintenance_info),
      });
      return reply.code(200).send({});
    },
  );

  app.delete(
    '/service_instances/:instance_id',
    {
      config: config('osb.deprovision'),
      schema: { params: instanceParams, querystring: deleteQuery, response: emptyResponses },
    },
    async (request, reply) => {
      const { grantsChanged } = await deprovision(ctx, requireCall(request), {
        instanceId: request.params.instance_id,
        serviceId: request.query.service_id,
        planId: request.query.plan_id,
      });
      // This replica answers with the revocation already in force; others follow by NOTIFY.
      if (grantsChanged) await ctx.grants.reload();
      return reply.code(200).send({});
    },
  );

  app.get(
    '/service_instances/:instance_id',
    {
      config: config('osb.instance.fetch'),
      schema: { params: instanceParams, querystring: hintQuery, response: fetchInstanceResponses },
    },
    async (request) => fetchInstance(ctx, requireCall(request), request.params.instance_id),
  );

  app.get(
    '/service_instances/:instance_id/last_operation',
    {
      config: config('osb.instance.last_operation'),
      schema: { params: instanceParams, querystring: hintQuery, response: lastOperationResponses },
    },
    async (request) => instanceLastOperation(ctx, requireCall(request), request.params.instance_id),
  );
}
