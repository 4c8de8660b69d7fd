// Kubernetes object schemas: kubernetes-models' JSON-schema validators plus an unknown-field check.
//
// kubernetes-models (4.x: its engines allow Node 20; 5.x needs Node >= 22) compiles the official
// OpenAPI schemas into validators: types, required fields, enums, integer formats. Like the
// OpenAPI schemas themselves, they allow unknown fields, so a misspelt `readinesProbe` would
// pass; the field names of @kubernetes/client-node's models (generated from the same OpenAPI
// document, Kubernetes 1.34) close that gap, as kubeconform's -strict mode does.
import * as k8s from '@kubernetes/client-node';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import type { KubeObject } from './deploy-files.js';

/** A kubernetes-models class: built from plain data, `validate()` throws on a schema error. */
type ModelClass = new (data: never) => { validate(): void };

interface KindSchema {
  readonly model: ModelClass;
  /** The @kubernetes/client-node model of the same object, for field names. */
  readonly clientType: string;
}

/**
 * Every kind deploy/ may contain, by `apiVersion/kind`. A kind not listed here fails the test,
 * so a new kind of object is a deliberate change that brings its schema along.
 */
const KINDS: Readonly<Record<string, KindSchema>> = {
  'v1/Namespace': { model: Namespace, clientType: 'V1Namespace' },
  'v1/ServiceAccount': { model: ServiceAccount, clientType: 'V1ServiceAccount' },
  'v1/Service': { model: Service, clientType: 'V1Service' },
  'v1/ConfigMap': { model: ConfigMap, clientType: 'V1ConfigMap' },
  'v1/Secret': { model: Secret, clientType: 'V1Secret' },
  'v1/PersistentVolumeClaim': {
    model: PersistentVolumeClaim,
    clientType: 'V1PersistentVolumeClaim',
  },
  'apps/v1/Deployment': { model: Deployment, clientType: 'V1Deployment' },
  'policy/v1/PodDisruptionBudget': {
    model: PodDisruptionBudget,
    clientType: 'V1PodDisruptionBudget',
  },
  'networking.k8s.io/v1/NetworkPolicy': { model: NetworkPolicy, clientType: 'V1NetworkPolicy' },
  'rbac.authorization.k8s.io/v1/ClusterRole': { model: ClusterRole, clientType: 'V1ClusterRole' },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': {
    model: ClusterRoleBinding,
    clientType: 'V1ClusterRoleBinding',
  },
};

interface AttributeType {
  readonly baseName: string;
  readonly type: string;
}

interface ClientModel {
  getAttributeTypeMap(): AttributeType[];
}

const CLIENT_MODELS = k8s as unknown as Readonly<Record<string, ClientModel | undefined>>;

function clientModel(type: string): ClientModel | undefined {
  const model = CLIENT_MODELS[type];
  return typeof model?.getAttributeTypeMap === 'function' ? model : undefined;
}

/** Fields of `value` (at `at`) that the OpenAPI type `type` does not have, recursively. */
function unknownFields(value: unknown, type: string, at: string, out: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) {
      value.forEach((item, i) => unknownFields(item, array[1] as string, `${at}[${i}]`, out));
    }
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        unknownFields(item, map[1] as string, `${at}.${key}`, out);
      }
    }
    return;
  }
  const model = clientModel(type);
  // Primitives, IntOrString, Quantity-as-string, `any`: nothing below to name.
  if (!model || typeof value !== 'object' || Array.isArray(value)) return;
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, item] of Object.entries(value)) {
    const fieldType = fields.get(key);
    if (fieldType === undefined) out.push(`${at}.${key}: unknown field of ${type}`);
    else unknownFields(item, fieldType, `${at}.${key}`, out);
  }
}

/** True for the kinds {@link schemaProblems} knows. */
export function hasSchema(object: KubeObject): boolean {
  return `${object.apiVersion}/${object.kind}` in KINDS;
}

/**
 * Everything wrong with `object` against the Kubernetes schema of its kind: schema errors
 * (wrong types, missing required fields, bad enum values) and unknown fields. Empty when valid.
 */
export function schemaProblems(object: KubeObject): string[] {
  const schema = KINDS[`${object.apiVersion}/${object.kind}`];
  if (!schema) return [`no schema for ${object.apiVersion} ${object.kind}`];
  const problems: string[] = [];
  try {
    new schema.model(object as never).validate();
  } catch (err) {
    problems.push(`schema: ${(err as Error).message}`);
  }
  unknownFields(object, schema.clientType, '', problems);
  return problems;
}
