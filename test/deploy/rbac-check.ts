// RBAC checks of deploy/: the same code `hallmark compliance` runs (src/manifest).
export { ATTESTOR_RULES, clusterRoleProblems } from '../../src/manifest/index.js';
