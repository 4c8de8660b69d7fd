// Manifests sent by `hallmark compliance --manifests DIR`: parsed here, each file kept by digest.
import { createHash } from 'node:crypto';
import { HallmarkError } from '../errors/index.js';
import { isKubeObject, parseYamlStream } from '../manifest/index.js';
import type { ManifestFacts } from './installation-snapshot.js';

/** One manifest file as sent: its path relative to the directory, and its text. */
export interface ManifestFile {
  readonly path: string;
  readonly content: string;
}

/**
 * Parses every file's YAML documents the way kubectl reads them and keeps the Kubernetes
 * objects, with the SHA-256 of each file so the report names exactly what was evaluated.
 * @throws HallmarkError ERR_COMPLIANCE_INPUT_INVALID naming the file that does not parse.
 */
export function suppliedManifests(source: string, files: readonly ManifestFile[]): ManifestFacts {
  const objects: { file: string; object: ManifestFacts['objects'][number]['object'] }[] = [];
  for (const file of files) {
    let documents;
    try {
      documents = parseYamlStream(file.content, file.path);
    } catch (err) {
      throw new HallmarkError('ERR_COMPLIANCE_INPUT_INVALID', {
        message: `manifest ${file.path} is not valid YAML`,
        detail: (err as Error).message,
      });
    }
    for (const doc of documents) {
      if (isKubeObject(doc.value)) objects.push({ file: file.path, object: doc.value });
    }
  }
  return {
    source,
    files: files.map((f) => ({
      path: f.path,
      sha256: createHash('sha256').update(f.content, 'utf8').digest('hex'),
    })),
    objects,
  };
}
