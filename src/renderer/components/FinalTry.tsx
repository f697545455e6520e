// The question asked before the partition's last crypto-officer PIN try (CKF_USER_PIN_FINAL_TRY,
// PKCS#11 v2.40 §3.2 CK_TOKEN_INFO flags): at login and at the audit alarm's acknowledgement alike.

/**
 * The "one try left" warning with its tick box. `announce`: the warning is an alert of its own
 * (false where it sits inside one already, e.g. the audit alarm).
 */
export function FinalTry({ accepted, onAccept, disabled = false, announce = true }: { accepted: boolean; onAccept(accepted: boolean): void; disabled?: boolean; announce?: boolean }): React.JSX.Element {
  return (
    <div className="final-try" role="group" aria-label="Final try">
      <p role={announce ? 'alert' : undefined}>One try left: the partition says the next wrong crypto-officer PIN locks the crypto officer out. Only a security officer can then reset it.</p>
      <label>
        <input type="checkbox" checked={accepted} disabled={disabled} onChange={(e) => onAccept(e.target.checked)} /> I am sure of the PIN: use the last try
      </label>
    </div>
  );
}
