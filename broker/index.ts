// Public surface of the Open Service Broker (OSB 2.17) endpoint.
export { brokerPlugin, DEFAULT_BROKER_SECRET_BYTES } from './broker-plugin.js';
export type { BrokerDeps } from './broker-plugin.js';
export type { BrokerCredentials } from './basic-auth.js';
export type { BrokerApiKeys, BrokerSecrets, ScopeCounts } from './broker-ports.js';
export { BrokerGrants, BROKER_GRANTS_CHANNEL, announceGrantChange } from './broker-grants.js';
export type { BrokerGrantsOptions } from './broker-grants.js';
export {
  CATALOG,
  MAINTENANCE_VERSION,
  PLAN_ID,
  PLAN_NAME,
  SERVICE_ID,
  SERVICE_NAME,
} from './catalog.js';
export { API_VERSION, MIN_API_VERSION } from './api-version.js';
export { BROKER_LOCK_CLASSES } from './broker-lock.js';
export { scopePrefix } from './broker-ids.js';
export type { BindingCredentials } from './binding-operations.js';
export type { OriginatingIdentity } from './originating-identity.js';
