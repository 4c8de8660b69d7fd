// Binding parameters: none (an API-key identity) or `{"namespace", "serviceAccount"}` (a workload).
import { HallmarkError } from '../src/errors/index.js';
import { isPlainObject, quoted } from './secrets-parameter.js';

// Kubernetes apimachinery IsDNS1123Label (namespaces) and IsDNS1123Subdomain (service accounts).
const NAMESPACE_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const SERVICE_ACCOUNT_PATTERN =
  '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const NAMESPACE = new RegExp(NAMESPACE_PATTERN);
const SERVICE_ACCOUNT = new RegExp(SERVICE_ACCOUNT_PATTERN);
const MAX_NAMESPACE = 63;
const MAX_SERVICE_ACCOUNT = 253;

/**
 * JSON schema of binding parameters, published in the plan: both names or neither.
 * @see OSB 2.17 "Input Parameters Schema Object"
 */
export const BINDING_PARAMETERS_SCHEMA = {
  $schema: 'http://json-schema.org/draft-04/schema#',
  type: 'object',
  description:
    'Without parameters the binding creates an API-key identity and returns its key once. With namespace and serviceAccount it grants that Kubernetes workload (its SPIFFE ID spiffe://<trust domain>/ns/<namespace>/sa/<serviceAccount>) read access instead, and returns no key.',
  properties: {
    namespace: {
      type: 'string',
      minLength: 1,
      maxLength: MAX_NAMESPACE,
      pattern: NAMESPACE_PATTERN,
    },
    serviceAccount: {
      type: 'string',
      minLength: 1,
      maxLength: MAX_SERVICE_ACCOUNT,
      pattern: SERVICE_ACCOUNT_PATTERN,
    },
  },
  dependencies: { namespace: ['serviceAccount'], serviceAccount: ['namespace'] },
  additionalProperties: false,
} as const;

/** Who a binding grants read access to. */
/**
 * The namespace the platform made the binding in (OSB 2.17 profile "Kubernetes Context
 * Object": `namespace`), when it is a valid one: the audit row records it next to the granted
 * workload, so a grant to a workload of another namespace can be detected.
 */
export function contextNamespace(context: unknown): string | undefined {
  if (context === null || typeof context !== 'object') return undefined;
  const namespace = (context as Record<string, unknown>)['namespace'];
  return typeof namespace === 'string' &&
    namespace.length <= MAX_NAMESPACE &&
    NAMESPACE.test(namespace)
    ? namespace
    : undefined;
}

export type BindingSubject =
  | { readonly kind: 'api_key' }
  | { readonly kind: 'workload'; readonly namespace: string; readonly serviceAccount: string };

/**
 * Reads binding parameters per {@link BINDING_PARAMETERS_SCHEMA}.
 * @throws HallmarkError `ERR_BROKER_REQUEST_INVALID`
 */
export function readBindingParameters(parameters: unknown): BindingSubject {
  if (parameters === undefined) return { kind: 'api_key' };
  if (!isPlainObject(parameters)) throw invalid('parameters must be an object');
  for (const key of Object.keys(parameters)) {
    if (key !== 'namespace' && key !== 'serviceAccount') {
      throw invalid(`parameters.${quoted(key)} is not a binding parameter of this plan`);
    }
  }
  const { namespace, serviceAccount } = parameters;
  if (namespace === undefined && serviceAccount === undefined) return { kind: 'api_key' };
  if (namespace === undefined || serviceAccount === undefined) {
    throw invalid('parameters.namespace and parameters.serviceAccount go together');
  }
  if (
    typeof namespace !== 'string' ||
    namespace.length > MAX_NAMESPACE ||
    !NAMESPACE.test(namespace)
  ) {
    throw invalid('parameters.namespace must be a Kubernetes namespace name (DNS-1123 label)');
  }
  if (
    typeof serviceAccount !== 'string' ||
    serviceAccount.length > MAX_SERVICE_ACCOUNT ||
    !SERVICE_ACCOUNT.test(serviceAccount)
  ) {
    throw invalid(
      'parameters.serviceAccount must be a Kubernetes service account name (DNS-1123 subdomain)',
    );
  }
  return { kind: 'workload', namespace, serviceAccount };
}

function invalid(message: string): HallmarkError {
  return new HallmarkError('ERR_BROKER_REQUEST_INVALID', { message });
}
