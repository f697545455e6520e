// The closed set of error codes that cross the IPC boundary and leave the CLI.
// Messages are written for officers; PKCS#11 / PC/SC codes travel in `detail`.

export const errorCodes = [
  'INVALID_REQUEST',
  'FORBIDDEN_SENDER',
  'UNKNOWN_CHANNEL',
  'MODULE_NOT_FOUND',
  'MODULE_INVALID',
  'MODULE_NOT_ALLOWED',
  'TOKEN_NOT_FOUND',
  'TOKEN_NOT_SELECTED',
  'TOKEN_REMOVED',
  'PIN_INCORRECT',
  'PIN_LOCKED',
  'PIN_INVALID',
  /** The partition says one try is left and the officer did not acknowledge it: the PIN was not tried. */
  'PIN_FINAL_TRY',
  'NOT_LOGGED_IN',
  'OBJECT_NOT_FOUND',
  'HSM_ERROR',
  'CARD_SERVICE_UNAVAILABLE',
  'READER_NOT_FOUND',
  'CARD_ABSENT',
  'CARD_REMOVED',
  'CARD_ERROR',
  'CARD_TIMEOUT',
  'KEYCHAIN_UNAVAILABLE',
  'AUDIT_UNAVAILABLE',
  'AUDIT_ALARM',
  'STORE_ERROR',
  'BACKUP_INVALID',
  'MEDIA_ERROR',
  'POLICY_REFUSED',
  'SCRIPT_INVALID',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export interface ErrorData {
  code: ErrorCode;
  /** What happened and what to do, in officers' words. Never contains a secret. */
  message: string;
  /** Technical detail for support: the failing call and its return code. */
  detail?: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorData };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(error: ErrorData): Result<T> {
  return { ok: false, error };
}

/** For switches over error codes: a compile error when a code is not handled. */
export function assertNever(value: never): never {
  throw new Error(`Unhandled case: ${String(value)}`);
}
