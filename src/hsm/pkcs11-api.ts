// The slice of the pkcs11js binding Hallmark calls, and loading it only when a module is configured.
import { ConfigError } from '../config/index.js';

/** A PKCS#11 handle (slot, session or object) as pkcs11js represents it: 8 native bytes. */
export type Handle = Buffer;

/** One attribute of a template; pkcs11js encodes booleans, numbers, strings and bytes. */
export interface Attribute {
  readonly type: number;
  readonly value?: boolean | number | string | Buffer;
}

/** A mechanism with its optional parameter (pkcs11js's tagged parameter objects). */
export interface Mechanism {
  readonly mechanism: number;
  readonly parameter?: { readonly type: number; readonly [field: string]: number | Buffer };
}

/** CK_TOKEN_INFO, the fields Hallmark reads. */
export interface TokenInfo {
  readonly label: string;
  readonly flags: number;
}

/** The PKCS#11 functions Hallmark uses, with pkcs11js's signatures (PKCS #11 v2.40 §5). */
export interface Pkcs11Api {
  C_Initialize(options?: { flags: number }): void;
  C_Finalize(): void;
  C_GetSlotList(tokenPresent: boolean): Handle[];
  C_GetTokenInfo(slot: Handle): TokenInfo;
  C_OpenSession(slot: Handle, flags: number): Handle;
  C_CloseSession(session: Handle): void;
  C_GetSessionInfo(session: Handle): { readonly state: number };
  C_Login(session: Handle, userType: number, pin: string): void;
  C_FindObjectsInit(session: Handle, template: Attribute[]): void;
  C_FindObjects(session: Handle, maxObjectCount: number): Handle[];
  C_FindObjectsFinal(session: Handle): void;
  C_GetAttributeValue(
    session: Handle,
    object: Handle,
    template: Attribute[],
  ): { type: number; value: Buffer }[];
  C_DestroyObject(session: Handle, object: Handle): void;
  C_GenerateKeyPairAsync(
    session: Handle,
    mechanism: Mechanism,
    publicTemplate: Attribute[],
    privateTemplate: Attribute[],
  ): Promise<{ publicKey: Handle; privateKey: Handle }>;
  C_SignInit(session: Handle, mechanism: Mechanism, key: Handle): void;
  C_SignAsync(session: Handle, data: Buffer, signature: Buffer): Promise<Buffer>;
}

interface Pkcs11jsModule {
  PKCS11: new () => Pkcs11Api & { load(path: string): void };
}

// A variable, so TypeScript neither needs the optional package's types nor resolves it.
const BINDING = 'pkcs11js';

/**
 * Loads pkcs11js (an optional dependency, imported only here, only when a module is configured)
 * and then the PKCS#11 library at `modulePath` into it. Not yet initialised.
 *
 * @throws ConfigError naming `HALLMARK_PKCS11_MODULE` when either cannot be loaded.
 */
export async function loadPkcs11Api(modulePath: string): Promise<Pkcs11Api> {
  let binding: Pkcs11jsModule;
  try {
    const imported = (await import(BINDING)) as Partial<Pkcs11jsModule> & {
      default?: Pkcs11jsModule;
    };
    binding = imported.default ?? (imported as Pkcs11jsModule);
  } catch (err) {
    throw new ConfigError(
      'HALLMARK_PKCS11_MODULE',
      `the optional dependency pkcs11js could not be loaded (${(err as Error).message}); ` +
        'install it where python3, make and a C++ compiler are present (npm ci builds it)',
    );
  }
  const api = new binding.PKCS11();
  try {
    api.load(modulePath);
  } catch (err) {
    throw new ConfigError(
      'HALLMARK_PKCS11_MODULE',
      `cannot load the PKCS#11 library: ${(err as Error).message}`,
    );
  }
  return api;
}
