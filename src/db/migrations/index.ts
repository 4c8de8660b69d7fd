// The ordered list of schema migrations; each is applied once, in a transaction.
import { foundation } from './001-foundation.js';
import { certificateAuthority } from './002-ca.js';
import { policy } from './003-policy.js';
import { authentication } from './004-authn.js';
import { secrets } from './005-secrets.js';
import { broker } from './006-broker.js';
import { jwtSvid } from './007-jwt-svid.js';
import { auditPending } from './008-audit-pending.js';
import { distrust } from './009-distrust.js';
import { auditSinks } from './012-audit-sinks.js';
import { auditCheckpoints } from './013-audit-checkpoints.js';
import { federation } from './014-federation.js';
import { pkcs11Keys } from './015-pkcs11-keys.js';

/**
 * One schema change. Versions increase along the list and are never reused; 10 and 11 were
 * reserved for work that landed later under higher numbers, so no release has them.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Every migration, in order. Add new ones at the end. */
export const MIGRATIONS: readonly Migration[] = [
  foundation,
  certificateAuthority,
  policy,
  authentication,
  secrets,
  broker,
  jwtSvid,
  auditPending,
  distrust,
  auditSinks,
  auditCheckpoints,
  federation,
  pkcs11Keys,
];
