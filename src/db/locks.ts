// PostgreSQL advisory lock ids: one per thing that must happen on exactly one replica at a time.

/**
 * Advisory lock keys (arbitrary but fixed 32-bit ids; "HM" prefix 0x484d to stay clear of
 * other applications sharing the database).
 */
export const ADVISORY_LOCKS = {
  migrations: 0x484d_0001,
  // 0x484d_0002 serialised audit appends until the chain head's row lock took that over.
  caRotation: 0x484d_0003,
  tokenKeyRotation: 0x484d_0004,
  adminBootstrap: 0x484d_0005,
  policyLoad: 0x484d_0006,
  jwtKeyRotation: 0x484d_0007,
  /** Two-key space of the audit sinks' sender locks: `(auditSinks, sink number)`. */
  auditSinks: 0x484d_0008,
  auditCheckpointKeyRotation: 0x484d_000b,
  /** The one replica signing a checkpoint this round. */
  auditCheckpoint: 0x484d_000c,
  /** One archive at a time. */
  auditArchive: 0x484d_000d,
  federationRefresh: 0x484d_000a,
} as const;
