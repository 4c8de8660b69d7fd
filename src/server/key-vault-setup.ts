// The server's key vault: sealed keys only, or every new key in the configured PKCS#11 token.
import type { Clock } from '../clock/index.js';
import type { Pkcs11Config } from '../config/index.js';
import { TokenKeys, TokenSessionPool, readTokenPin, type TokenReadiness } from '../hsm/index.js';
import { KeyVault, SEALED_ONLY } from '../keyring/index.js';

/** The vault, what `/readyz` asks of it, and how to let go of the token. */
export interface ServerVault {
  readonly vault: KeyVault;
  /** Always ready without a token; with one, the session pool's probe. */
  readiness(): Promise<TokenReadiness>;
  close(): Promise<void>;
}

/**
 * Opens the token when `HALLMARK_PKCS11_MODULE` is set: reads the PIN file, loads the module,
 * finds the token, opens the session pool and logs in.
 * @throws ConfigError naming `HALLMARK_PKCS11_MODULE`, `HALLMARK_PKCS11_TOKEN` or
 *   `HALLMARK_PKCS11_PIN_FILE` (exit 2).
 */
export async function openServerVault(
  pkcs11: Pkcs11Config | undefined,
  clock: Clock,
): Promise<ServerVault> {
  if (pkcs11 === undefined) {
    return {
      vault: SEALED_ONLY,
      readiness: async () => ({ ready: true }),
      close: async () => undefined,
    };
  }
  const pin = await readTokenPin(pkcs11.pinFile);
  const pool = await TokenSessionPool.open({
    modulePath: pkcs11.modulePath,
    tokenLabel: pkcs11.tokenLabel,
    pin,
    clock,
  });
  return {
    vault: new KeyVault(new TokenKeys(pool)),
    readiness: () => pool.readiness(),
    close: () => pool.close(),
  };
}
