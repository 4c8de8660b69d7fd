// An in-memory CredentialStore for unit tests of the sidecar: same contract, no filesystem.
import type { CredentialStore, SvidFiles } from '../../sidecar/index.js';

/** Keeps the latest credentials in memory and counts writes. */
export class MemoryCredentialStore implements CredentialStore {
  svid: SvidFiles | undefined;
  token: string | undefined;
  svidWrites = 0;
  tokenWrites = 0;
  tokenRemovals = 0;

  async writeSvid(files: SvidFiles): Promise<void> {
    this.svid = files;
    this.svidWrites++;
  }

  async writeToken(token: string): Promise<void> {
    this.token = token;
    this.tokenWrites++;
  }

  async removeToken(): Promise<void> {
    this.token = undefined;
    this.tokenRemovals++;
  }

  async readBundle(): Promise<string | undefined> {
    return this.svid?.bundlePem;
  }
}
