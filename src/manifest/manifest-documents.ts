// Kubernetes manifests as files: YAML streams parsed the way kubectl reads them, and their objects.
import { parseAllDocuments } from 'yaml';

/** A parsed YAML value; narrowed by the checks that read it. */
export type YamlValue = unknown;

/** Any Kubernetes object: only these fields are known before its schema is checked. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** One YAML document of a file, with where it came from for messages. */
export interface YamlDocument {
  readonly file: string;
  readonly index: number;
  readonly value: YamlValue;
}

/**
 * Alias expansions allowed per stream: manifests have no use for many, and a small bound keeps
 * an alias bomb in a file sent to the server (`POST /v1/compliance`) from expanding.
 */
const MAX_ALIAS_COUNT = 100;

/**
 * Parses every document of a YAML stream the way kubectl reads it. Throws on a syntax error
 * or a warning (a duplicate key, say), naming the file. Empty documents are dropped.
 */
export function parseYamlStream(text: string, file: string): YamlDocument[] {
  const documents: YamlDocument[] = [];
  parseAllDocuments(text, { uniqueKeys: true }).forEach((doc, index) => {
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) throw new Error(`${file} (document ${index + 1}): ${problem.message}`);
    const value: YamlValue = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    if (value !== null && value !== undefined) documents.push({ file, index, value });
  });
  return documents;
}

/** True when the value has the two fields every Kubernetes object has. */
export function isKubeObject(value: YamlValue): value is KubeObject {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { apiVersion?: unknown }).apiVersion === 'string' &&
    typeof (value as { kind?: unknown }).kind === 'string'
  );
}

/** `kind namespace/name` of an object, for messages. */
export function describeObject(object: KubeObject): string {
  const ns = object.metadata?.namespace;
  return `${object.kind} ${ns ? `${ns}/` : ''}${object.metadata?.name ?? '(unnamed)'}`;
}
