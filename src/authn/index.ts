// Public surface of authentication: API keys and the admin bootstrap.
export { API_KEY_PREFIX, apiKeyMatches, generateApiKey, hashApiKey } from './api-key.js';
export { ADMIN_KEY_ID, bootstrapAdminKey } from './admin-bootstrap.js';
export type { AdminBootstrap } from './admin-bootstrap.js';
