// Public surface of the OCSF mapping of audit rows.
export {
  BASE_EVENT_REQUIRES,
  OCSF_CLASSES,
  OCSF_VERSION,
  SEVERITY,
  STATUS,
  USER_TYPE,
  typeUid,
} from './ocsf-classes.js';
export type { OcsfClass, OcsfClassName, Requirement } from './ocsf-classes.js';
export { ACTION_MAPPING, httpMapping, mappingOf } from './ocsf-mapping.js';
export type { ActionMapping } from './ocsf-mapping.js';
export { severityOf, toOcsfEvent, userOf } from './ocsf-event.js';
export type { OcsfEvent, OcsfProduct } from './ocsf-event.js';
export { missingAttributes } from './ocsf-requirements.js';
