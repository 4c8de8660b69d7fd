// The broker's catalog: one service offering (`hallmark-secrets`) with one plan (`standard`).
import { BINDING_PARAMETERS_SCHEMA } from './binding-parameters.js';
import { SECRETS_PARAMETERS_SCHEMA } from './secrets-parameter.js';

/**
 * Stable ids: platforms correlate offerings and plans only by id, so these never change
 * (@see OSB 2.17 "Catalog Management": a broker MUST NOT change the id of a resource).
 */
export const SERVICE_ID = '196fb1d7-b62b-4bb3-8a3a-cfa13a11fd95';
/** Id of the `standard` plan. */
export const PLAN_ID = '2eeaea04-3cb8-4285-9ab7-f28e8fc43284';

/** CLI-friendly names (lowercase letters, digits and `-`). */
export const SERVICE_NAME = 'hallmark-secrets';
/** Name of the only plan. */
export const PLAN_NAME = 'standard';

/**
 * The plan's maintenance version (semantic version 2.0). A platform that sends another one
 * gets 422 `MaintenanceInfoConflict` (@see OSB 2.17 "Provisioning", "Updating a Service
 * Instance"). Bump it only when what an instance *is* changes.
 */
export const MAINTENANCE_VERSION = '1.0.0';

/**
 * The whole catalog, with every field OSB 2.17 defines that Hallmark uses. `GET /v2/catalog`
 * answers each platform with the part its `X-Broker-API-Version` defines (catalog-versions.ts).
 */
export const CATALOG = deepFreeze({
  services: [
    {
      name: SERVICE_NAME,
      id: SERVICE_ID,
      description:
        'A Hallmark secret scope (osb/<instance_id>/) with optional initial secrets; bindings grant read access to an API-key identity or a Kubernetes workload.',
      tags: ['secrets', 'spiffe', 'hallmark'],
      bindable: true,
      instances_retrievable: true,
      bindings_retrievable: true,
      // Context-only updates would change nothing an instance holds, so they are not invited.
      allow_context_updates: false,
      // One plan: there is nothing to change a plan to (parameters remain updatable).
      plan_updateable: false,
      metadata: {
        displayName: 'Hallmark secrets',
        providerDisplayName: 'Hallmark',
      },
      plans: [
        {
          id: PLAN_ID,
          name: PLAN_NAME,
          description:
            'A secret scope; each binding receives read access to every secret in it, revoked at unbind.',
          free: true,
          bindable: true,
          binding_rotatable: false,
          plan_updateable: false,
          maintenance_info: {
            version: MAINTENANCE_VERSION,
            description: 'Secret scope with envelope-encrypted, versioned secrets.',
          },
          schemas: {
            service_instance: {
              create: { parameters: SECRETS_PARAMETERS_SCHEMA },
              update: { parameters: SECRETS_PARAMETERS_SCHEMA },
            },
            service_binding: { create: { parameters: BINDING_PARAMETERS_SCHEMA } },
          },
        },
      ],
    },
  ],
});

/**
 * Checks a request's `service_id` and `plan_id` against the catalog.
 * @returns `undefined` when both are known, otherwise which one is not.
 */
export function unknownCatalogId(
  serviceId: string,
  planId: string | undefined,
): string | undefined {
  if (serviceId !== SERVICE_ID) return 'service_id is not a service offering of this broker';
  if (planId !== undefined && planId !== PLAN_ID) return 'plan_id is not a plan of this service';
  return undefined;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
