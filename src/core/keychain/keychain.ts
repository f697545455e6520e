// The few local secrets the terminal itself needs (e.g. the key that authenticates its audit log)
// live in the OS keychain, behind this interface.

export interface Keychain {
  /** The secret stored under `account`, or null when there is none. The caller wipes it. */
  get(account: string): Promise<Buffer | null>;
  set(account: string, secret: Buffer): Promise<void>;
  delete(account: string): Promise<boolean>;
}
