// The inventory of deploy/: every file sorted into what it is, and every Kubernetes object in it.
import path from 'node:path';
import {
  describeObject,
  isKubeObject,
  listRepoFiles,
  parseYamlStream,
  readRepoFile,
  type KubeObject,
} from './deploy-files.js';

/** A Kubernetes object and the file it is written in. */
export interface ManifestObject {
  readonly file: string;
  readonly object: KubeObject;
}

/** A kustomization.yaml, as far as these tests read it. */
export interface Kustomization {
  readonly file: string;
  readonly dir: string;
  readonly resources: readonly string[];
  readonly patches: readonly string[];
  readonly raw: Readonly<Record<string, unknown>>;
}

/** Hallmark policy documents (not Kubernetes objects), loaded with `hallmark policy load`. */
export const POLICY_FILES: readonly string[] = ['deploy/example/policy.yaml'];

/** Non-YAML files that may sit under deploy/. */
export const OTHER_FILES: readonly string[] = ['deploy/Dockerfile', 'deploy/secrets/.gitignore'];

function readKustomization(file: string): Kustomization {
  const [doc] = parseYamlStream(readRepoFile(file), file);
  const raw = (doc?.value ?? {}) as Record<string, unknown>;
  const resources = (raw.resources ?? []) as string[];
  const patches = ((raw.patches ?? []) as { path?: string }[])
    .map((patch) => patch.path)
    .filter((p): p is string => p !== undefined);
  return { file, dir: path.posix.dirname(file), resources, patches, raw };
}

/** Every file under deploy/ that is (or would be) committed. */
export const FILES: readonly string[] = listRepoFiles('deploy');

/** Every kustomization.yaml under deploy/. */
export const KUSTOMIZATIONS: readonly Kustomization[] = FILES.filter(
  (file) => path.posix.basename(file) === 'kustomization.yaml',
).map(readKustomization);

/** Files that kustomizations use as patches: partial objects, checked only once rendered. */
export const PATCH_FILES: readonly string[] = KUSTOMIZATIONS.flatMap((k) =>
  k.patches.map((p) => path.posix.join(k.dir, p)),
);

/** YAML files holding whole Kubernetes objects. */
export const MANIFEST_FILES: readonly string[] = FILES.filter(
  (file) =>
    file.endsWith('.yaml') &&
    path.posix.basename(file) !== 'kustomization.yaml' &&
    !PATCH_FILES.includes(file) &&
    !POLICY_FILES.includes(file),
);

/** Every document of every manifest file; a document that is not an object is reported. */
export const OBJECTS: readonly ManifestObject[] = MANIFEST_FILES.flatMap((file) =>
  parseYamlStream(readRepoFile(file), file).map((doc) => {
    if (!isKubeObject(doc.value)) {
      throw new Error(`${file} document ${doc.index + 1} is not a Kubernetes object`);
    }
    return { file, object: doc.value };
  }),
);

/** The one object of this kind and name; throws when there is not exactly one. */
export function findObject(kind: string, name: string): ManifestObject {
  const found = OBJECTS.filter((o) => o.object.kind === kind && o.object.metadata?.name === name);
  if (found.length !== 1) {
    throw new Error(`expected one ${kind} ${name} under deploy/, found ${found.length}`);
  }
  return found[0] as ManifestObject;
}

/** `file: Kind ns/name`, the test name of an object. */
export function label(entry: ManifestObject): string {
  return `${entry.file}: ${describeObject(entry.object)}`;
}
