// Routes of /v2/service_instances/:instance_id/service_bindings/:binding_id (bind, unbind, fetch, last_operation).
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts';
import type { FastifyInstance } from 'fastify';
import { bind, bindingLastOperation, fetchBinding, unbind } from './binding-operations.js';
import { requireCall } from './broker-call.js';
import type { BrokerContext } from './broker-context.js';
import type { BrokerRouteConfig } from './broker-hooks.js';
import {
  bindBody,
  bindingParams,
  bindResponses,
  deleteQuery,
  emptyResponses,
  fetchBindingResponses,
  hintQuery,
  lastOperationResponses,
} from './route-schemas.js';

const PATH = '/service_instances/:instance_id/service_bindings/:binding_id';

function config(osbAction: BrokerRouteConfig['osbAction']): BrokerRouteConfig {
  return { osbAction };
}

/** Registers the binding routes on the broker scope. */
export function registerBindingRoutes(scope: FastifyInstance, ctx: BrokerContext): void {
  // Bodies, queries and params typed from the schemas in route-schemas.ts.
  const app = scope.withTypeProvider<JsonSchemaToTsProvider>();
  app.put(
    PATH,
    {
      config: config('osb.bind'),
      schema: { params: bindingParams, body: bindBody, response: bindResponses },
    },
    async (request, reply) => {
      const body = request.body;
      const result = await bind(ctx, requireCall(request), {
        instanceId: request.params.instance_id,
        bindingId: request.params.binding_id,
        serviceId: body.service_id,
        planId: body.plan_id,
        appGuid: body.app_guid,
        bindResource: body.bind_resource,
        context: body.context,
        parameters: body.parameters,
        predecessorBindingId: body.predecessor_binding_id,
      });
      // The grant is in force on this replica before the platform hears of the binding.
      if (result.grantsChanged) await ctx.grants.reload();
      return reply.code(result.status).send({ credentials: result.credentials });
    },
  );

  app.delete(
    PATH,
    {
      config: config('osb.unbind'),
      schema: { params: bindingParams, querystring: deleteQuery, response: emptyResponses },
    },
    async (request, reply) => {
      const { grantsChanged } = await unbind(ctx, requireCall(request), {
        instanceId: request.params.instance_id,
        bindingId: request.params.binding_id,
        serviceId: request.query.service_id,
        planId: request.query.plan_id,
      });
      if (grantsChanged) await ctx.grants.reload();
      return reply.code(200).send({});
    },
  );

  app.get(
    PATH,
    {
      config: config('osb.binding.fetch'),
      schema: { params: bindingParams, querystring: hintQuery, response: fetchBindingResponses },
    },
    async (request) =>
      fetchBinding(
        ctx,
        requireCall(request),
        request.params.instance_id,
        request.params.binding_id,
      ),
  );

  app.get(
    `${PATH}/last_operation`,
    {
      config: config('osb.binding.last_operation'),
      schema: { params: bindingParams, querystring: hintQuery, response: lastOperationResponses },
    },
    async (request) =>
      bindingLastOperation(
        ctx,
        requireCall(request),
        request.params.instance_id,
        request.params.binding_id,
      ),
  );
}
