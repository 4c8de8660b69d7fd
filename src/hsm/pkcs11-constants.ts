// The PKCS#11 numbers Hallmark uses, from the OASIS PKCS #11 v2.40 headers (pkcs11t.h).
// Kept here rather than read from the binding so pure code and error handling need no addon.

/** Object classes (CKO_*). */
export const CKO = { PUBLIC_KEY: 0x2, PRIVATE_KEY: 0x3 } as const;

/** Key types (CKK_*). */
export const CKK = { RSA: 0x0, EC: 0x3 } as const;

/** Attribute types (CKA_*). */
export const CKA = {
  CLASS: 0x0,
  TOKEN: 0x1,
  PRIVATE: 0x2,
  LABEL: 0x3,
  VALUE: 0x11,
  KEY_TYPE: 0x100,
  ID: 0x102,
  SENSITIVE: 0x103,
  DECRYPT: 0x105,
  UNWRAP: 0x107,
  SIGN: 0x108,
  VERIFY: 0x10a,
  DERIVE: 0x10c,
  MODULUS: 0x120,
  MODULUS_BITS: 0x121,
  PUBLIC_EXPONENT: 0x122,
  PRIVATE_EXPONENT: 0x123,
  EXTRACTABLE: 0x162,
  LOCAL: 0x163,
  NEVER_EXTRACTABLE: 0x164,
  ALWAYS_SENSITIVE: 0x165,
  EC_PARAMS: 0x180,
  EC_POINT: 0x181,
} as const;

/** Mechanisms (CKM_*). */
export const CKM = {
  RSA_PKCS_KEY_PAIR_GEN: 0x0,
  SHA256_RSA_PKCS: 0x40,
  SHA384_RSA_PKCS: 0x41,
  SHA512_RSA_PKCS: 0x42,
  SHA256_RSA_PKCS_PSS: 0x43,
  SHA384_RSA_PKCS_PSS: 0x44,
  SHA512_RSA_PKCS_PSS: 0x45,
  SHA256: 0x250,
  SHA384: 0x260,
  SHA512: 0x270,
  EC_KEY_PAIR_GEN: 0x1040,
  ECDSA: 0x1041,
} as const;

/** MGF1 generators for RSA-PSS (CKG_*). */
export const CKG = { MGF1_SHA256: 0x2, MGF1_SHA384: 0x3, MGF1_SHA512: 0x4 } as const;

/** pkcs11js's tag for CK_RSA_PKCS_PSS_PARAMS in a mechanism's `parameter`. */
export const CK_PARAMS_RSA_PSS = 5;

/** Flags: C_Initialize (CKF_OS_LOCKING_OK), C_OpenSession, CK_TOKEN_INFO. */
export const CKF = {
  OS_LOCKING_OK: 0x2,
  RW_SESSION: 0x2,
  SERIAL_SESSION: 0x4,
  USER_PIN_LOCKED: 0x40000,
} as const;

/** The normal user (CKU_USER). */
export const CKU_USER = 1;

/** Session states in which the user is logged in (CKS_RO_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS). */
export const USER_SESSION_STATES: readonly number[] = [1, 3];

/** Return values (CKR_*) that Hallmark tells apart. */
export const CKR = {
  HOST_MEMORY: 0x2,
  SLOT_ID_INVALID: 0x3,
  GENERAL_ERROR: 0x5,
  FUNCTION_FAILED: 0x6,
  ATTRIBUTE_SENSITIVE: 0x11,
  ATTRIBUTE_TYPE_INVALID: 0x12,
  DEVICE_ERROR: 0x30,
  DEVICE_MEMORY: 0x31,
  DEVICE_REMOVED: 0x32,
  KEY_HANDLE_INVALID: 0x60,
  OBJECT_HANDLE_INVALID: 0x82,
  PIN_INCORRECT: 0xa0,
  PIN_INVALID: 0xa1,
  PIN_LEN_RANGE: 0xa2,
  PIN_EXPIRED: 0xa3,
  PIN_LOCKED: 0xa4,
  SESSION_CLOSED: 0xb0,
  SESSION_COUNT: 0xb1,
  SESSION_HANDLE_INVALID: 0xb3,
  TOKEN_NOT_PRESENT: 0xe0,
  TOKEN_NOT_RECOGNIZED: 0xe1,
  USER_ALREADY_LOGGED_IN: 0x100,
  USER_NOT_LOGGED_IN: 0x101,
  USER_PIN_NOT_INITIALIZED: 0x102,
  CRYPTOKI_NOT_INITIALIZED: 0x190,
  CRYPTOKI_ALREADY_INITIALIZED: 0x191,
} as const;
