// Secrets (PINs, shares, credentials, keys) live in Buffers that are overwritten after use.

/** Overwrites a secret in place. Safe to call more than once. */
export function wipe(...buffers: (Buffer | Uint8Array | null | undefined)[]): void {
  for (const buffer of buffers) buffer?.fill(0);
}

/** Runs `use` with the secret and wipes it afterwards, whatever happens. */
export async function withSecret<T>(secret: Buffer, use: (secret: Buffer) => Promise<T> | T): Promise<T> {
  try {
    return await use(secret);
  } finally {
    wipe(secret);
  }
}
