// The audit alarm, above every section from the start: the log failed verification (replaced,
// cut, its keychain record unreadable, an entry or a sealed head altered). Where the terminal
// refuses to extend the log (the database is not the log this workstation's keychain knows), an
// officer acknowledges it here with the crypto-officer PIN, and the acknowledgement is recorded.
import { useRef, useState } from 'react';
import type { AuditProblemKind } from '../../shared/types';
import { useAudit } from '../stores/audit';
import { usePartition } from '../stores/partition';
import { ErrorMessage } from './ErrorMessage';
import { FinalTry } from './FinalTry';

/** Problems of the log's record that stop the terminal from writing until acknowledged (audit-log.ts). */
const blocking: readonly AuditProblemKind[] = ['replaced', 'truncated', 'anchor-unreadable', 'anchor-missing'];

export function AuditAlarm(): React.JSX.Element | null {
  const { verification, acknowledge, acknowledgeError } = useAudit();
  const pinInput = useRef<HTMLInputElement>(null);
  const [lastTryAccepted, acceptLastTry] = useState(false);
  // The partition's last crypto-officer PIN try is used only when the officer says so, as at login:
  // known from the partition's flags, or from the core's refusal when they changed since.
  const finalTry = usePartition((s) => s.view?.token.userPin.condition === 'final-try') || acknowledgeError?.code === 'PIN_FINAL_TRY';
  const problem = verification?.problem;
  if (!problem) return null;
  const needsAcknowledgement = blocking.includes(problem.kind);
  return (
    <section className="error audit-alarm" role="alert" aria-label="Audit log alarm">
      <h2>Audit log alarm</h2>
      <p>{problem.message}</p>
      {needsAcknowledgement ? (
        <>
          <p>Logins and ceremonies are refused until an officer acknowledges this. The acknowledgement is recorded as the log&apos;s next entry, with what was lost.</p>
          <form
            className="row"
            onSubmit={(e) => {
              e.preventDefault();
              const input = pinInput.current;
              if (!input || input.value === '') return;
              if (finalTry && !lastTryAccepted) return;
              const pin = input.value;
              input.value = '';
              void acknowledge(pin, finalTry && lastTryAccepted).then(() => acceptLastTry(false));
            }}
          >
            <label htmlFor="acknowledge-pin">Crypto-officer PIN</label>
            <input id="acknowledge-pin" ref={pinInput} type="password" autoComplete="off" />
            {finalTry ? <FinalTry accepted={lastTryAccepted} onAccept={acceptLastTry} announce={false} /> : null}
            <button type="submit" disabled={finalTry && !lastTryAccepted}>
              Acknowledge the alarm
            </button>
          </form>
          {acknowledgeError ? <ErrorMessage error={acknowledgeError} /> : null}
        </>
      ) : (
        <p>Report it to your administrator: see Audit for the entry.</p>
      )}
    </section>
  );
}
