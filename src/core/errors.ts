// The one error type core throws. It carries an officer-facing message and a closed code;
// the PKCS#11 / PC/SC function and return value go in `detail`, never in the message.
import type { ErrorCode, ErrorData } from '../shared/errors';

export class TesseraError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, message: string, detail?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TesseraError';
    this.code = code;
    this.detail = detail;
  }

  toData(): ErrorData {
    return this.detail === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, detail: this.detail };
  }
}

/**
 * Turns anything thrown into error data safe to show. Unexpected errors keep only their class
 * name as detail: their message could quote arguments, and arguments can be secrets.
 */
export function toErrorData(error: unknown): ErrorData {
  if (error instanceof TesseraError) return error.toData();
  const kind = error instanceof Error ? error.name : typeof error;
  return { code: 'INTERNAL', message: 'Something went wrong inside the terminal. Nothing was changed by this step.', detail: kind };
}
