// docs/compliance.md lists every control of the registry, with its references and remediation.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTROLS } from '../../src/compliance/index.js';
import { REPO_ROOT } from '../deploy/deploy-files.js';
import { controlSection } from './control-doc.js';

const doc = readFileSync(path.join(REPO_ROOT, 'docs/compliance.md'), 'utf8');

describe('docs/compliance.md', () => {
  it('describes every control exactly as the registry has it', () => {
    for (const control of CONTROLS) expect(doc, control.id).toContain(controlSection(control));
  });

  it('describes no control the registry does not have, each once', () => {
    const headings = [...doc.matchAll(/^### (HM-[A-Z]+-\d\d)$/gm)].map((m) => m[1]);
    expect(headings).toEqual(CONTROLS.map((c) => c.id));
  });
});
