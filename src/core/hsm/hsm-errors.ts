// One place that turns PKCS#11 return values into officer-facing errors. The CKR name and the
// failing function travel as the error's detail.
import type { ErrorCode } from '../../shared/errors';
import { TesseraError } from '../errors';
import { asPkcs11Failure, ModuleLoadFailure } from './pkcs11-adapter';

const messages: Record<string, [ErrorCode, string]> = {
  CKR_PIN_INCORRECT: ['PIN_INCORRECT', 'The PIN is wrong.'],
  CKR_PIN_LOCKED: ['PIN_LOCKED', 'This PIN is locked after too many wrong tries. A security officer must reset it.'],
  CKR_PIN_EXPIRED: ['PIN_INVALID', 'This PIN has expired and must be changed before it can be used.'],
  CKR_PIN_INVALID: ['PIN_INVALID', 'The PIN contains characters the partition does not accept.'],
  CKR_PIN_LEN_RANGE: ['PIN_INVALID', 'The PIN is too short or too long for this partition.'],
  CKR_USER_PIN_NOT_INITIALIZED: ['PIN_INVALID', 'The crypto-officer PIN of this partition has not been set yet.'],
  CKR_USER_NOT_LOGGED_IN: ['NOT_LOGGED_IN', 'Log in to the partition first.'],
  CKR_TOKEN_NOT_PRESENT: ['TOKEN_REMOVED', 'The partition is no longer available. Check the HSM connection and choose the partition again.'],
  CKR_DEVICE_REMOVED: ['TOKEN_REMOVED', 'The partition is no longer available. Check the HSM connection and choose the partition again.'],
  CKR_SESSION_HANDLE_INVALID: ['TOKEN_REMOVED', 'The session with the partition was lost. Choose the partition again.'],
  CKR_SESSION_CLOSED: ['TOKEN_REMOVED', 'The session with the partition was lost. Choose the partition again.'],
  CKR_SLOT_ID_INVALID: ['TOKEN_REMOVED', 'The partition is no longer available. Choose the partition again.'],
  CKR_TOKEN_NOT_RECOGNIZED: ['TOKEN_NOT_FOUND', 'The HSM does not recognise this partition.'],
  CKR_OBJECT_HANDLE_INVALID: ['OBJECT_NOT_FOUND', 'That object no longer exists in the partition.'],
  CKR_DEVICE_ERROR: ['HSM_ERROR', 'The HSM reported a device error. Check the HSM before you go on.'],
  CKR_DEVICE_MEMORY: ['HSM_ERROR', 'The HSM is out of memory.'],
  CKR_HOST_MEMORY: ['HSM_ERROR', 'The PKCS#11 module ran out of memory on this workstation.'],
  CKR_GENERAL_ERROR: ['HSM_ERROR', 'The HSM reported a general error.'],
  CKR_FUNCTION_FAILED: ['HSM_ERROR', 'The HSM could not complete the request.'],
};

/** Converts any error from an HSM call; non-PKCS#11 errors are passed through. */
export function toHsmError(error: unknown, fallbackFn?: string): unknown {
  if (error instanceof TesseraError) return error;
  if (error instanceof ModuleLoadFailure) {
    return new TesseraError('MODULE_INVALID', 'This file is not a PKCS#11 module that the terminal can load.', error.reason);
  }
  const failure = asPkcs11Failure(error, fallbackFn);
  if (!failure) return error;
  const [code, message] = messages[failure.rvName] ?? ['HSM_ERROR', 'The HSM refused the request.'];
  return new TesseraError(code, message, failure.message, { cause: failure });
}

/** Runs an HSM call and rethrows failures as TesseraError. */
export function withHsmErrors<T>(fn: string, call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw toHsmError(error, fn);
  }
}
