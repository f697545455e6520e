// Any ceremony, as core describes it: the step list, what to do now, who has been read, what was
// refused and why, and the result. PIN fields are uncontrolled and cleared as soon as they are sent.
import { useEffect, useRef, useState } from 'react';
import type { CardReport, CeremonyPrompt, CeremonySummary, CeremonyView } from '../../shared/types';
import { ErrorMessage } from '../components/ErrorMessage';
import { useQuorum } from '../stores/quorum';
import { ChangeDetail, KeyChangeResult, PolicyChangeResult } from './ApprovalDetails';
import { BackupResult, Preview, Progress, RestoreChoice, RestoreResult } from './BackupDetails';
import { CoPinResult, EnrolmentRecordView, RollCallResult, RotationResult } from './CardSetResults';

/**
 * The answer field of a prompt: focused when a new prompt comes; its problem is the officer's empty
 * field (said at once, here) or the ceremony's refusal of the last answer.
 */
function usePromptField(p: CeremonyPrompt): { field: React.RefObject<HTMLInputElement | null>; setEmpty(text: string | null): void; problem: string | null } {
  const field = useRef<HTMLInputElement>(null);
  const [empty, setEmpty] = useState<string | null>(null);
  useEffect(() => {
    setEmpty(null);
    field.current?.focus();
  }, [p.seq]);
  return { field, setEmpty, problem: empty ?? p.refusal ?? null };
}

/** The fingerprint from a backup set's enrolment record, typed to vouch for the set (never shown from the file). */
function FingerprintForm({ view }: { view: CeremonyView }): React.JSX.Element {
  const { answerFingerprint } = useQuorum();
  const { field, setEmpty, problem } = usePromptField(view.prompt);
  return (
    <form
      className="stack"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const typed = field.current?.value.trim() ?? '';
        if (typed === '') {
          setEmpty('Type the fingerprint from the enrolment record first.');
          field.current?.focus();
          return;
        }
        setEmpty(null);
        void answerFingerprint(typed);
      }}
    >
      <label htmlFor="ceremony-fingerprint">Fingerprint on the enrolment record</label>
      <input id="ceremony-fingerprint" ref={field} className="mono" autoComplete="off" spellCheck={false} placeholder="XXXX-XXXX-XXXX-XXXX-XXXX-XXXX" aria-invalid={problem ? true : undefined} aria-describedby={problem ? 'ceremony-fingerprint-problem' : undefined} />
      {problem ? (
        <p className="field-error" role="alert" id="ceremony-fingerprint-problem">
          {problem}
        </p>
      ) : null}
      <button type="submit">Check the fingerprint</button>
    </form>
  );
}

function PinForm({ view }: { view: CeremonyView }): React.JSX.Element {
  const { answerPin } = useQuorum();
  const p = view.prompt;
  const { field: first, setEmpty, problem } = usePromptField(p);
  const second = useRef<HTMLInputElement>(null);
  const twice = p.kind === 'choose-pin';
  const label = p.kind === 'enter-so-pin' ? 'Current SO PIN' : twice ? (p.pinOf === 'crypto-officer' ? 'New crypto-officer PIN' : 'New card PIN') : 'Card PIN';
  return (
    <form
      className="stack"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const pin = first.current?.value ?? '';
        const repeat = second.current?.value ?? '';
        if (pin === '' || (twice && repeat === '')) {
          setEmpty(twice ? 'Type the new PIN in both fields.' : p.kind === 'enter-so-pin' ? 'Type the current SO PIN first.' : 'Type your card PIN first.');
          (pin === '' ? first : second).current?.focus();
          return;
        }
        if (first.current) first.current.value = '';
        if (second.current) second.current.value = '';
        setEmpty(null);
        void answerPin(pin, twice ? repeat : undefined);
      }}
    >
      <label htmlFor="ceremony-pin">{label}</label>
      <input id="ceremony-pin" ref={first} type="password" autoComplete="off" aria-invalid={problem ? true : undefined} aria-describedby={problem ? 'ceremony-pin-problem' : undefined} />
      {twice ? (
        <>
          <label htmlFor="ceremony-pin-repeat">The same PIN again</label>
          <input id="ceremony-pin-repeat" ref={second} type="password" autoComplete="off" />
        </>
      ) : null}
      {problem ? (
        <p className="field-error" role="alert" id="ceremony-pin-problem">
          {problem}
        </p>
      ) : null}
      {p.triesLeft === 1 ? (
        <p className="notice notice-warning">Last try: one more wrong PIN blocks the card.</p>
      ) : p.triesLeft !== undefined && p.triesLeft !== null ? (
        <p className="muted">The card allows {p.triesLeft} more tries.</p>
      ) : null}
      <button type="submit">{p.kind === 'enter-so-pin' ? 'Use this SO PIN' : 'OK'}</button>
    </form>
  );
}

/** When the ceremony ended, what changed, who took part with which cards, in local time; printable. */
function Summary({ summary }: { summary: CeremonySummary }): React.JSX.Element {
  // (dateStyle cannot be combined with a time zone name: the parts are named one by one.)
  const when = (iso: string): string => new Date(iso).toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });
  const outcome = { done: 'Completed', failed: 'Failed', cancelled: 'Cancelled' }[summary.outcome];
  return (
    <section className="summary" aria-labelledby="summary-title">
      <h3 id="summary-title">
        {outcome}: {summary.title}
      </h3>
      <p>
        Partition “{summary.partition.label}”{summary.partition.serial ? ` (serial ${summary.partition.serial})` : ''}. Started {when(summary.started)}, ended {when(summary.ended)}.
      </p>
      <ul aria-label="What changed">
        {summary.changes.map((c, i) => (
          <li key={i}>{c}</li>
        ))}
      </ul>
      {summary.participants.length > 0 ? (
        <table className="plain" aria-label="Who took part">
          <thead>
            <tr>
              <th scope="col">Holder</th>
              <th scope="col">Card serial</th>
            </tr>
          </thead>
          <tbody>
            {summary.participants.map((p) => (
              <tr key={p.card}>
                <td>{p.holder}</td>
                <td className="mono">{p.card}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>No card took part.</p>
      )}
      <button type="button" className="no-print" onClick={() => window.print()}>
        Print the summary
      </button>
    </section>
  );
}

function Report({ report }: { report: CardReport }): React.JSX.Element {
  const start = useQuorum((s) => s.start);
  const yesNo = (v: boolean | null): string => (v === null ? 'not checked' : v ? 'yes' : 'NO');
  return (
    <>
    <p role="status">{report.name}{report.problem ? `: ${report.problem}` : '.'}</p>
    {report.interrupted ? (
      <button type="button" onClick={() => void start({ kind: 'reset-card' })}>
        Make {report.interrupted.holder}'s card blank again
      </button>
    ) : null}
    <dl aria-label="Card report">
      <dt>Card</dt>
      <dd className="mono">{report.card ?? 'blank card'}</dd>
      <dt>Holder</dt>
      <dd>{report.holder ?? '—'}</dd>
      <dt>Share</dt>
      <dd>{report.index ? `share ${report.index} of ${report.n}; any ${report.m} of the ${report.n} cards log in` : '—'}</dd>
      <dt>Card set</dt>
      <dd>{report.set ? `${report.set}, generation ${report.generation}` : '—'}</dd>
      {report.setFingerprint ? (
        <>
          <dt>Backup set fingerprint</dt>
          <dd className="mono">{report.setFingerprint}</dd>
        </>
      ) : null}
      <dt>Partition</dt>
      <dd>{report.partition ? `“${report.partition.label}” (serial ${report.partition.serial})` : '—'}</dd>
      <dt>Current set of this partition</dt>
      <dd>{report.current ? 'yes' : `no${report.problem ? `: ${report.problem}` : ''}`}</dd>
      <dt>PIN right</dt>
      <dd>{yesNo(report.pinCorrect)}</dd>
      <dt>Sealed share intact</dt>
      <dd>{yesNo(report.shareIntact)}</dd>
      <dt>PIN tries left</dt>
      <dd>{report.triesLeft ?? 'the card does not tell'}</dd>
    </dl>
    </>
  );
}

function Notices({ view }: { view: CeremonyView }): React.JSX.Element | null {
  if (view.notices.length === 0) return null;
  return (
    <ul className="notices" aria-label="What happened">
      {view.notices.map((n, i) => (
        <li key={i} className={`notice notice-${n.level}`}>
          <span className="notice-mark">{n.level === 'error' ? 'Error: ' : n.level === 'warning' ? 'Warning: ' : ''}</span>
          {n.text}
          {n.detail ? (
            <details>
              <summary>Technical detail</summary>
              <code>{n.detail}</code>
            </details>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

/**
 * Cancel (the button, or Escape anywhere in the ceremony panel); once something was written, only
 * after the officers confirm what stays written. Escape in that question answers "No, go on".
 */
function CancelButton({ view, asking, setAsking }: { view: CeremonyView; asking: boolean; setAsking(on: boolean): void }): React.JSX.Element {
  const cancel = useQuorum((s) => s.cancel);
  const question = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (asking) question.current?.focus();
  }, [asking]);
  if (asking && view.written.length > 0) {
    return (
      <div
        className="confirm-cancel"
        role="alertdialog"
        aria-labelledby="cancel-title"
        tabIndex={-1}
        ref={question}
        onKeyDown={(e) => {
          if (e.key !== 'Escape') return;
          e.stopPropagation();
          setAsking(false);
        }}
      >
        <p id="cancel-title">
          <strong>Cancel the ceremony?</strong> What stays written:
        </p>
        <ul>
          {view.written.map((w, i) => (
            <li key={i}>{w}</li>
          ))}
        </ul>
        <div className="row">
          <button type="button" className="danger" onClick={() => void cancel().then(() => setAsking(false))}>
            Yes, cancel the ceremony
          </button>
          <button type="button" onClick={() => setAsking(false)}>
            No, go on
          </button>
        </div>
      </div>
    );
  }
  return (
    <button type="button" onClick={() => (view.written.length > 0 ? setAsking(true) : void cancel())}>
      Cancel
    </button>
  );
}

/** Each step's state as an icon (hidden from screen readers) and words (read out; visible where the icon says less). */
const stepMarks = {
  todo: { icon: '○', words: 'To do:', shown: false },
  current: { icon: '▶', words: 'Now:', shown: true },
  done: { icon: '✓', words: 'Done:', shown: false },
  failed: { icon: '✗', words: 'Failed:', shown: true },
} as const;

export function CeremonyPanel({ view }: { view: CeremonyView }): React.JSX.Element {
  const { confirm, dismiss, error, cancel } = useQuorum();
  const [asking, setAsking] = useState(false);
  const panel = useRef<HTMLElement>(null);
  const ended = ['done', 'failed', 'cancelled'].includes(view.prompt.kind);
  const p = view.prompt;
  // The button that started the ceremony is gone: the keyboard's focus goes to the ceremony (unless a field of it took it).
  useEffect(() => {
    if (!document.activeElement || document.activeElement === document.body) panel.current?.focus();
  }, [view.id]);
  return (
    <section
      className="panel ceremony"
      aria-labelledby="ceremony-title"
      tabIndex={-1}
      ref={panel}
      onKeyDown={(e) => {
        // Escape cancels the prompt, as the Cancel button does (asking first once something is written).
        if (e.key !== 'Escape' || ended || e.defaultPrevented) return;
        e.preventDefault();
        if (view.written.length > 0) setAsking(true);
        else void cancel();
      }}
    >
      <h2 id="ceremony-title">{view.title}</h2>
      <p className="muted">{view.partition.serial ? `Partition “${view.partition.label}” (serial ${view.partition.serial})` : 'No partition needed'}</p>
      <ol className="steps" aria-label="Steps">
        {view.steps.map((s) => (
          <li key={s.title} className={`step step-${s.state}`} aria-current={s.state === 'current' ? 'step' : undefined}>
            {/* The state by icon and words too, not in colour alone. */}
            <span className="step-state">
              <span aria-hidden="true">{stepMarks[s.state].icon} </span>
              <span className={stepMarks[s.state].shown ? undefined : 'sr-only'}>{stepMarks[s.state].words}</span>
            </span>{' '}
            {s.title}
          </li>
        ))}
      </ol>
      <div className={`prompt prompt-${p.kind}`} role="status" aria-live="polite">
        <strong>{p.text}</strong>
      </div>
      {view.needed !== null && view.kind !== 'check-card' && view.kind !== 'change-pin' && view.kind !== 'backup' ? (
        <p aria-label="Collected">
          {view.collected.length - view.quorumFrom} of {view.needed} {view.kind === 'adopt' || view.kind === 'backup-set' ? 'cards written' : 'collected'}
          {view.collected.length > view.quorumFrom ? `: ${view.collected.slice(view.quorumFrom).map((c) => c.holder).join(', ')}` : ''}
        </p>
      ) : null}
      {error ? <ErrorMessage error={error} /> : null}
      {p.kind === 'enter-pin' || p.kind === 'choose-pin' || p.kind === 'enter-so-pin' ? <PinForm view={view} /> : null}
      {p.kind === 'confirm-fingerprint' ? <FingerprintForm view={view} /> : null}
      <Progress view={view} />
      <Preview view={view} />
      <ChangeDetail view={view} />
      <RestoreChoice key={view.detail?.kind === 'restore-choice' ? view.id : 'none'} view={view} />
      {p.kind === 'confirm' ? (
        <button type="button" className={p.destroys ? 'danger' : 'primary'} onClick={() => void confirm()}>
          {p.confirmLabel ?? 'Confirm'}
        </button>
      ) : null}
      {p.kind === 'insert-card' && p.finishLabel ? (
        <button type="button" onClick={() => void confirm()}>
          {p.finishLabel}
        </button>
      ) : null}
      <Notices view={view} />
      {view.result?.kind === 'adopt' || view.result?.kind === 'backup-set' ? <EnrolmentRecordView record={view.result.record} purpose={view.result.kind === 'adopt' ? 'so' : 'backup'} /> : null}
      {view.result?.kind === 'backup' ? <BackupResult report={view.result.report} /> : null}
      {view.result?.kind === 'restore' ? <RestoreResult report={view.result.report} /> : null}
      {view.result?.kind === 'check-card' ? <Report report={view.result.report} /> : null}
      {view.result?.kind === 'so-login' ? <p role="status">Logged in as security officer with the cards of {view.result.holders.join(', ')}.</p> : null}
      {view.result?.kind === 'change-pin' ? <p role="status">{view.result.holder}'s card PIN is changed.</p> : null}
      {view.result?.kind === 'reset-card' ? <p role="status">{view.result.holder}'s card is blank again.</p> : null}
      {view.result?.kind === 'co-pin-reset' ? <CoPinResult result={view.result} /> : null}
      {view.result && 'rotation' in view.result ? <RotationResult report={view.result.rotation} /> : null}
      {view.result?.kind === 'roll-call' ? <RollCallResult report={view.result.report} /> : null}
      {view.result?.kind === 'key-reactivate' || view.result?.kind === 'key-destroy' ? <KeyChangeResult report={view.result.report} /> : null}
      {view.result?.kind === 'policy-set' ? <PolicyChangeResult report={view.result.report} /> : null}
      {view.summary ? <Summary summary={view.summary} /> : null}
      <div className="row">
        {ended ? (
          <button type="button" onClick={dismiss}>
            Close
          </button>
        ) : (
          <CancelButton view={view} asking={asking} setAsking={setAsking} />
        )}
      </div>
    </section>
  );
}
