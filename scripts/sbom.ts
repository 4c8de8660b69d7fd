// `npm run sbom`: CycloneDX JSON of the production dependency tree, written to sbom.cdx.json.
//
// `npm sbom --omit dev` selects with `:not(.dev)`, and npm's `.dev` also matches a production
// package that a dev dependency reaches too (yaml, which vite asks for as well), so on a clone
// with dev dependencies installed it drops production packages. This takes npm's document of
// the whole tree and keeps the packages `npm ls --omit=dev`, which follows the dependency
// edges, lists. In the image (deploy/Dockerfile's deps stage) only production packages are
// installed, so plain `npm sbom --omit dev` is exact there.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'sbom.cdx.json');

interface LsNode {
  version?: string;
  dependencies?: Record<string, LsNode>;
}
interface Bom {
  metadata: { component: { 'bom-ref': string } };
  components: { 'bom-ref': string }[];
  dependencies?: { ref: string; dependsOn?: string[] }[];
}

async function npmJson<T>(args: string[]): Promise<T> {
  const { stdout } = await run('npm', args, { cwd: ROOT, maxBuffer: 256 * 1024 * 1024 });
  return JSON.parse(stdout) as T;
}

/** `name@version` of every package in the production tree. */
function productionRefs(node: LsNode, into = new Set<string>()): Set<string> {
  for (const [name, child] of Object.entries(node.dependencies ?? {})) {
    const ref = `${name}@${child.version ?? ''}`;
    if (into.has(ref)) continue;
    into.add(ref);
    productionRefs(child, into);
  }
  return into;
}

const [bom, tree] = await Promise.all([
  npmJson<Bom>(['sbom', '--sbom-format', 'cyclonedx', '--sbom-type', 'application']),
  npmJson<LsNode>(['ls', '--omit=dev', '--all', '--json']),
]);
const keep = productionRefs(tree);
keep.add(bom.metadata.component['bom-ref']);
bom.components = bom.components.filter((c) => keep.has(c['bom-ref']));
bom.dependencies = bom.dependencies
  ?.filter((d) => keep.has(d.ref))
  .map((d) => ({ ...d, dependsOn: d.dependsOn?.filter((ref) => keep.has(ref)) }));
await writeFile(OUT, `${JSON.stringify(bom, null, 2)}\n`);
console.log(
  `wrote ${path.relative(process.cwd(), OUT)}: ${bom.components.length} production packages`,
);
