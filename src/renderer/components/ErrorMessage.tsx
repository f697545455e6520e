// How an error is shown: the officers' message first, a short heading by kind, and the technical
// detail (PKCS#11 / PC/SC code) folded away.
import { type ErrorCode, type ErrorData, assertNever } from '../../shared/errors';

export function errorHeading(code: ErrorCode): string {
  switch (code) {
    case 'PIN_INCORRECT':
    case 'PIN_LOCKED':
    case 'PIN_INVALID':
      return 'PIN not accepted';
    case 'PIN_FINAL_TRY':
      return 'PIN not tried: one try left';
    case 'MODULE_NOT_FOUND':
    case 'MODULE_INVALID':
      return 'PKCS#11 module problem';
    case 'MODULE_NOT_ALLOWED':
      return 'PKCS#11 module refused';
    case 'TOKEN_NOT_FOUND':
    case 'TOKEN_NOT_SELECTED':
    case 'TOKEN_REMOVED':
      return 'Partition not available';
    case 'NOT_LOGGED_IN':
      return 'Login needed';
    case 'OBJECT_NOT_FOUND':
      return 'Object not found';
    case 'HSM_ERROR':
      return 'The HSM refused';
    case 'CARD_SERVICE_UNAVAILABLE':
    case 'READER_NOT_FOUND':
    case 'CARD_ABSENT':
    case 'CARD_REMOVED':
    case 'CARD_ERROR':
    case 'CARD_TIMEOUT':
      return 'Card problem';
    case 'KEYCHAIN_UNAVAILABLE':
    case 'AUDIT_UNAVAILABLE':
      return 'Audit log unavailable';
    case 'AUDIT_ALARM':
      return 'Audit log alarm';
    case 'STORE_ERROR':
      return 'Database problem';
    case 'BACKUP_INVALID':
      return 'Backup refused';
    case 'MEDIA_ERROR':
      return 'USB media problem';
    case 'POLICY_REFUSED':
      return 'Refused by the partition policy';
    case 'SCRIPT_INVALID':
      return 'Ceremony script refused';
    case 'INVALID_REQUEST':
      return 'Not possible now';
    case 'FORBIDDEN_SENDER':
    case 'UNKNOWN_CHANNEL':
      return 'Refused by the terminal';
    case 'INTERNAL':
      return 'Unexpected error';
    default:
      return assertNever(code);
  }
}

export function ErrorMessage({ error, id }: { error: ErrorData; id?: string }): React.JSX.Element {
  return (
    <div className="error" role="alert" id={id}>
      <strong>{errorHeading(error.code)}:</strong> {error.message}
      {error.detail ? (
        <details>
          <summary>Technical detail</summary>
          <code>{error.detail}</code>
        </details>
      ) : null}
    </div>
  );
}
