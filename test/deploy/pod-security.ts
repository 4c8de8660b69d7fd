// Pod Security checks of deploy/: the same code `hallmark compliance` runs (src/manifest).
export { allContainers, podSecurityProblems, podTemplatesOf } from '../../src/manifest/index.js';
export type { PodTemplate } from '../../src/manifest/index.js';
