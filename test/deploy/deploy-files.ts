// The files under deploy/: which ones exist (as git would commit them) and their YAML documents.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/** The repository root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

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
 * Paths (relative to the repository root, `/`-separated) of every file under `dir` that is
 * tracked or would be committed: git-ignored files (the operator's secret values in
 * deploy/secrets/) are not part of the repository and are left out.
 */
export function listRepoFiles(dir: string): string[] {
  const out = execFileSync(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard', '--', dir],
    { cwd: REPO_ROOT, encoding: 'utf8' },
  );
  const files = out.split('\n').filter((line) => line !== '');
  // A file deleted from the work tree but still in the index is not there to check.
  return [...new Set(files)]
    .filter((file) => {
      try {
        readFileSync(path.join(REPO_ROOT, file));
        return true;
      } catch {
        return false;
      }
    })
    .sort();
}

/** Reads a repository file as text. */
export function readRepoFile(file: string): string {
  return readFileSync(path.join(REPO_ROOT, file), 'utf8');
}

/**
 * Parses every document of a YAML stream the way kubectl reads it. Throws on a syntax error
 * or a warning (a duplicate key, say), naming the file. Empty documents are dropped.
 */
export function parseYamlStream(text: string, file: string): YamlDocument[] {
  const documents: YamlDocument[] = [];
  parseAllDocuments(text, { uniqueKeys: true }).forEach((doc, index) => {
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) throw new Error(`${file} (document ${index + 1}): ${problem.message}`);
    const value: YamlValue = doc.toJS();
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

/** `kind/namespace/name` of an object, for messages. */
export function describeObject(object: KubeObject): string {
  const ns = object.metadata?.namespace;
  return `${object.kind} ${ns ? `${ns}/` : ''}${object.metadata?.name ?? '(unnamed)'}`;
}
