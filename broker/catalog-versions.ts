// The catalog each OSB version defines: a platform gets only the fields of the version it sent.
import { LATEST_KNOWN_MINOR, type ApiVersion } from './api-version.js';
import { CATALOG } from './catalog.js';

/**
 * Where a catalog field's value is copied whole: a scalar, a list of strings, or an object the
 * spec leaves open (`metadata`, a JSON schema under `parameters`).
 */
const LEAF: Leaf = 'leaf';
type Leaf = 'leaf';

/** The fields a version defines for an object (`[shape]` is a list of such objects). */
type Shape = Leaf | readonly [Shape] | { readonly [field: string]: Shape };

/**
 * The catalog fields OSB 2.`minor` defines, from spec.md of each release (a strict platform
 * validates with `additionalProperties: false`, so a field from a later version breaks it).
 * Unknown fields are dropped rather than passed on, so a field added to {@link CATALOG}
 * reaches no platform until it is entered here under the version that defines it.
 */
function catalogShape(minor: number): Shape {
  const since = (introduced: number, fields: Record<string, Shape>): Record<string, Shape> =>
    minor >= introduced ? fields : {};
  // @see OSB 2.13 "Input Parameters Object"; 2.14+ "Input Parameters Schema Object".
  const inputParameters = { parameters: LEAF };
  // @see OSB 2.13 "Schema Object", "Service Instances Object", "Service Bindings Object".
  const schemas = {
    service_instance: { create: inputParameters, update: inputParameters },
    service_binding: { create: inputParameters },
  };
  const plan: Shape = {
    // @see OSB 2.13 "Plan Object".
    id: LEAF,
    name: LEAF,
    description: LEAF,
    metadata: LEAF,
    free: LEAF,
    bindable: LEAF,
    schemas,
    // @see OSB 2.15 "Service Plan Object": per-plan plan_updateable, maximum_polling_duration
    // and maintenance_info ("Maintenance Info Object": version, description) are new.
    ...since(15, {
      plan_updateable: LEAF,
      maximum_polling_duration: LEAF,
      maintenance_info: { version: LEAF, description: LEAF },
    }),
    // @see OSB 2.17 "Service Plan Object": binding_rotatable is new.
    ...since(17, { binding_rotatable: LEAF }),
  };
  const service: Shape = {
    // @see OSB 2.13 "Service Objects".
    name: LEAF,
    id: LEAF,
    description: LEAF,
    tags: LEAF,
    requires: LEAF,
    bindable: LEAF,
    metadata: LEAF,
    // @see OSB 2.13 "Dashboard Client Object" (a Cloud Foundry extension from 2.15 on).
    dashboard_client: { id: LEAF, secret: LEAF, redirect_uri: LEAF },
    plan_updateable: LEAF,
    plans: [plan],
    // @see OSB 2.14 "Service Object": instances_retrievable and bindings_retrievable are new.
    ...since(14, { instances_retrievable: LEAF, bindings_retrievable: LEAF }),
    // @see OSB 2.15 "Service Offering Object": allow_context_updates is new.
    ...since(15, { allow_context_updates: LEAF }),
  };
  return { services: [service] };
}

/** `value` with only the fields `shape` names, recursively. */
function shapeTo(value: unknown, shape: Shape): unknown {
  if (shape === LEAF || value === null || typeof value !== 'object') return value;
  if (Array.isArray(shape)) {
    const items = shape[0] as Shape;
    return Array.isArray(value) ? value.map((item) => shapeTo(item, items)) : value;
  }
  const fields = shape as { readonly [field: string]: Shape };
  const source = value as Record<string, unknown>;
  const shaped: Record<string, unknown> = {};
  for (const [field, sub] of Object.entries(fields)) {
    if (Object.hasOwn(source, field)) shaped[field] = shapeTo(source[field], sub);
  }
  return shaped;
}

/** The catalog as a platform speaking 2.`minor` sees it (later minors see the 2.17 one). */
export function catalogFor(version: ApiVersion): unknown {
  return shapeTo(CATALOG, catalogShape(Math.min(version.minor, LATEST_KNOWN_MINOR)));
}

const serialised = new Map<number, string>();

/** {@link catalogFor} serialised, once per version: every request sends the same bytes. */
export function catalogJsonFor(version: ApiVersion): string {
  const minor = Math.min(version.minor, LATEST_KNOWN_MINOR);
  let json = serialised.get(minor);
  if (json === undefined) {
    json = JSON.stringify(catalogFor({ major: version.major, minor }));
    serialised.set(minor, json);
  }
  return json;
}

/**
 * A request's `maintenance_info`, if the platform's version defines it. Before 2.15 the field
 * does not exist: such a platform was never shown the plan's maintenance_info, so whatever it
 * sends there is an unknown field, which receivers SHOULD ignore (@see OSB 2.13 "Change
 * Policy"; 2.14 "Vendor Extension Fields": MUST ignore) rather than a version to check.
 */
export function requestMaintenanceInfo<T>(
  version: ApiVersion | undefined,
  maintenanceInfo: T | undefined,
): T | undefined {
  return version !== undefined && version.minor < 15 ? undefined : maintenanceInfo;
}
