// Ceremonies: a reviewed script (YAML) opened from the USB stick or the shipped examples, its
// preconditions checked, then step by step: who acts now, what is expected, the outcome and the
// time of each step. A terminal step that is a ceremony shows the usual ceremony panel; a manual
// step waits for the person it names; the administrator records exceptions at any step and the
// script says whether the ceremony goes on. Practice runs say PRACTICE everywhere. The order, the
// logins and what is recorded are core's (record/script-run.ts); this only shows and passes on.
import { useEffect, useRef, useState } from 'react';
import { ROLE_WORDS } from '../../shared/ceremony-script';
import type { ScriptRunView, ScriptStepState } from '../../shared/script-run';
import { ErrorMessage } from '../components/ErrorMessage';
import { formatDateTime, formatTimeOfDay } from '../format';
import { usePartition } from '../stores/partition';
import { useQuorum } from '../stores/quorum';
import { useScript } from '../stores/script';
import { CeremonyPanel } from './CeremonyPanel';

const stateWords: Record<ScriptStepState, string> = {
  todo: 'To do',
  current: 'Now',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
  confirmed: 'Confirmed',
  skipped: 'Skipped',
};

const outcomeWords: Record<ScriptRunView['outcome'], string> = {
  running: 'Under way',
  completed: 'Completed',
  stopped: 'Stopped',
  failed: 'Failed',
  cancelled: 'Cancelled',
};


function ScriptChooser(): React.JSX.Element {
  const { files, error, busy, load, open } = useScript();
  const [chosen, setChosen] = useState<string>('');
  const [practice, setPractice] = useState(true);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <section className="panel" aria-labelledby="scripts-title">
      <h2 id="scripts-title">Open a ceremony script</h2>
      <p className="muted">Scripts on the USB stick, and the examples shipped with Tessera. A practice run works on the training lab (or a partition whose label begins with PRACTICE) and marks everything PRACTICE.</p>
      {files.length === 0 ? <p role="status">No script found: insert the USB stick that holds the reviewed script, then look again.</p> : null}
      <form
        className="stack"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (!chosen) {
            setProblem('Choose a script first.');
            return;
          }
          setProblem(null);
          void open(chosen, practice);
        }}
      >
        <fieldset>
          <legend>Script</legend>
          {files.map((f) => (
            <label key={f.path} className="choice">
              <input type="radio" name="script" value={f.path} checked={chosen === f.path} onChange={() => setChosen(f.path)} /> {f.name} <span className="muted">({f.where})</span>
            </label>
          ))}
        </fieldset>
        <label className="choice">
          <input type="checkbox" checked={practice} onChange={(e) => setPractice(e.target.checked)} /> Practice run (marked PRACTICE)
        </label>
        {problem ? (
          <p className="field-error" role="alert">
            {problem}
          </p>
        ) : null}
        {error ? <ErrorMessage error={error} /> : null}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            Open the script
          </button>
          <button type="button" onClick={() => void load()}>
            Look again
          </button>
        </div>
      </form>
    </section>
  );
}

/** A PIN field for the crypto officer's login, cleared as soon as it is sent. */
function CoLogin({ then, label }: { then: 'step' | 'finish'; label: string }): React.JSX.Element {
  const { loginAnd, busy } = useScript();
  const field = useRef<HTMLInputElement>(null);
  const [empty, setEmpty] = useState(false);
  useEffect(() => field.current?.focus(), []);
  return (
    <form
      className="stack"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const pin = field.current?.value ?? '';
        if (pin === '') {
          setEmpty(true);
          field.current?.focus();
          return;
        }
        if (field.current) field.current.value = '';
        setEmpty(false);
        void loginAnd(pin, then);
      }}
    >
      <label htmlFor="script-co-pin">Crypto-officer PIN</label>
      <input id="script-co-pin" ref={field} type="password" autoComplete="off" aria-invalid={empty ? true : undefined} aria-describedby={empty ? 'script-co-pin-problem' : undefined} />
      {empty ? (
        <p className="field-error" role="alert" id="script-co-pin-problem">
          Type the crypto officer&apos;s PIN first.
        </p>
      ) : null}
      <button type="submit" className="primary" disabled={busy}>
        {label}
      </button>
    </form>
  );
}

/** The administrator's exception: free text and who; the script decides what happens next. */
function ExceptionForm({ view, required }: { view: ScriptRunView; required: boolean }): React.JSX.Element {
  const { exception, busy } = useScript();
  const names = [view.parsed.roster.administrator, ...view.parsed.roster.witnesses, ...view.parsed.roster.officers.map((o) => o.name)];
  const [text, setText] = useState('');
  const [by, setBy] = useState(view.parsed.roster.administrator);
  const [problem, setProblem] = useState<string | null>(null);
  const step = view.current === null ? null : view.parsed.steps[view.current - 1];
  return (
    <form
      className="stack exception-form"
      aria-label="Record an exception"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (text.trim() === '') {
          setProblem('Write what happened first.');
          return;
        }
        setProblem(null);
        void exception(text, by).then((ok) => ok && setText(''));
      }}
    >
      <h3>{required ? 'Record the exception' : 'Record an exception'}</h3>
      {step ? <p className="muted">At step {step.n}. The script says: {step.onException === 'continue' ? 'record it and go on with the next step.' : 'the ceremony stops once it is recorded.'}</p> : null}
      <label htmlFor="exception-text">What happened</label>
      <textarea id="exception-text" rows={3} value={text} maxLength={2000} onChange={(e) => setText(e.target.value)} aria-invalid={problem ? true : undefined} aria-describedby={problem ? 'exception-problem' : undefined} />
      {problem ? (
        <p className="field-error" role="alert" id="exception-problem">
          {problem}
        </p>
      ) : null}
      <label htmlFor="exception-by">Recorded by</label>
      <select id="exception-by" value={by} onChange={(e) => setBy(e.target.value)}>
        {names.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>
      <button type="submit" disabled={busy}>
        Record the exception
      </button>
    </form>
  );
}

function ManualConfirm({ view }: { view: ScriptRunView }): React.JSX.Element {
  const { confirm, busy } = useScript();
  const step = view.parsed.steps[(view.current ?? 1) - 1];
  const who = [...(step?.by ?? []), view.parsed.roster.administrator];
  const [by, setBy] = useState(who[0] ?? '');
  return (
    <form
      className="stack"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void confirm(by);
      }}
    >
      <label htmlFor="manual-by">Confirmed by</label>
      <select id="manual-by" value={by} onChange={(e) => setBy(e.target.value)}>
        {who.map((n) => (
          <option key={n} value={n}>
            {n}
            {n === view.parsed.roster.administrator && !step?.by.includes(n) ? ' (administrator)' : ''}
          </option>
        ))}
      </select>
      <button type="submit" className="primary" disabled={busy}>
        Confirm this step is done
      </button>
    </form>
  );
}

function Run({ view }: { view: ScriptRunView }): React.JSX.Element {
  const { error, busy, act, close } = useScript();
  const ceremony = useQuorum((s) => s.ceremony);
  const loggedIn = usePartition((s) => s.view?.token.loggedIn ?? false);
  const [cancelling, setCancelling] = useState(false);
  // The safe answer has the focus when the question comes, so Enter or Escape keeps the ceremony going.
  const keepGoing = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (cancelling) keepGoing.current?.focus();
  }, [cancelling]);
  const unmet = view.preconditions.filter((p) => !p.met);
  const current = view.current === null ? null : view.steps[view.current - 1];
  const running = view.outcome === 'running' && view.waiting !== 'begin';
  return (
    <section className={`panel script-run${view.practice ? ' practice' : ''}`} aria-labelledby="script-title">
      {view.practice ? (
        <p className="practice-banner" role="note" aria-label="Practice run">
          PRACTICE — not a production ceremony. Everything it writes and records says PRACTICE.
        </p>
      ) : null}
      <h2 id="script-title">{view.title}</h2>
      <p className="muted">
        Script {view.script.file}, SHA-256 <span className="mono">{view.script.sha256}</span>. Partition “{view.partition.label}” (serial {view.partition.serial}). Outcome: {outcomeWords[view.outcome]}.
      </p>
      <h3>Roster</h3>
      <ul className="plain-list" aria-label="Roster">
        <li>
          <strong>{view.parsed.roster.administrator}</strong>: administrator (runs the terminal, records exceptions)
        </li>
        {view.parsed.roster.witnesses.map((w) => (
          <li key={w}>
            <strong>{w}</strong>: witness
          </li>
        ))}
        {view.parsed.roster.officers.map((o) => (
          <li key={o.name}>
            <strong>{o.name}</strong>: {o.roles.map((r) => ROLE_WORDS[r]).join(', ')}
          </li>
        ))}
      </ul>
      <h3>Preconditions</h3>
      <ul className="plain-list" aria-label="Preconditions">
        {view.preconditions.map((p) => (
          <li key={p.what} className={p.met ? 'met' : 'not-met'}>
            <strong>{p.met ? 'Met' : 'NOT MET'}</strong> {p.what}: {p.detail}
          </li>
        ))}
      </ul>
      <h3>Steps</h3>
      <ol className="steps script-steps" aria-label="Ceremony steps">
        {view.steps.map((s) => (
          <li key={s.n} className={`step step-${s.n === view.current && s.state === 'todo' ? 'current' : s.state}`} aria-current={s.n === view.current ? 'step' : undefined}>
            <span className="step-state">{s.n === view.current && s.state === 'todo' ? 'Next' : stateWords[s.state]}</span> {s.n}. {s.title}
            <span className="muted"> — {s.by.length > 0 ? s.by.join(', ') : 'the officers'}</span>
            {s.started ? (
              <span className="muted">
                {' · '}
                {formatDateTime(s.started)}
                {s.ended ? ` → ${formatTimeOfDay(s.ended)}` : ''}
              </span>
            ) : null}
            {s.details.length > 0 ? (
              <ul className="step-details">
                {s.details.map((d, i) => (
                  <li key={i}>{d}</li>
                ))}
              </ul>
            ) : null}
          </li>
        ))}
      </ol>
      <div className="prompt" role="status" aria-live="polite" aria-label="What to do now">
        <strong>{view.instruction}</strong>
      </div>
      {view.problem ? (
        <p className="notice notice-warning" role="note" aria-label="Why the ceremony stopped">
          {view.problem}
        </p>
      ) : null}
      {error ? <ErrorMessage error={error} /> : null}
      {view.waiting === 'begin' ? (
        <div className="actions">
          <button type="button" className="primary" disabled={busy || unmet.length > 0} aria-describedby={unmet.length > 0 ? 'begin-why' : undefined} onClick={() => void act('begin')}>
            Begin the ceremony
          </button>
          <button type="button" onClick={() => void close()}>
            Close this script
          </button>
          {unmet.length > 0 ? (
            <p id="begin-why" className="field-error">
              It cannot begin: {unmet.map((p) => p.detail).join(' ')}
            </p>
          ) : null}
        </div>
      ) : null}
      {view.waiting === 'step' && current ? (
        <div className="actions">
          <button type="button" className="primary" disabled={busy} onClick={() => void act('step')}>
            Start step {current.n}: {current.title}
          </button>
        </div>
      ) : null}
      {view.waiting === 'co-login' ? <CoLogin then="step" label="Log in and go on" /> : null}
      {view.waiting === 'ceremony' && ceremony ? <CeremonyPanel view={ceremony} /> : null}
      {view.waiting === 'manual' ? <ManualConfirm view={view} /> : null}
      {view.waiting === 'exception' ? <ExceptionForm view={view} required /> : null}
      {view.waiting === 'sign' ? (
        loggedIn ? (
          <div className="actions">
            <button type="button" className="primary" disabled={busy} onClick={() => void act('finish')}>
              Sign and write the transcript
            </button>
          </div>
        ) : (
          <CoLogin then="finish" label="Log in, sign and write the transcript" />
        )
      ) : null}
      {view.waiting === 'ended' && view.transcript ? (
        <div className="stack" aria-label="Transcript">
          <p>
            Transcript: <span className="mono">{view.transcript.json}</span>
            <br />
            Printout: <span className="mono">{view.transcript.pdf}</span>
            <br />
            Digest <span className="mono">{view.transcript.digest}</span>
          </p>
          <button type="button" onClick={() => void close()}>
            Close the ceremony
          </button>
        </div>
      ) : null}
      {running && view.waiting !== 'exception' && view.waiting !== 'sign' && view.waiting !== 'ended' ? <ExceptionForm view={view} required={false} /> : null}
      {view.exceptions.length > 0 ? (
        <>
          <h3>Exceptions</h3>
          <ul className="plain-list" aria-label="Exceptions">
            {view.exceptions.map((x, i) => (
              <li key={i}>
                Step {x.step}, {formatDateTime(x.time)}, {x.by}: {x.text} ({x.then === 'stopped' ? 'the ceremony stopped' : 'the ceremony went on'})
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {running && view.waiting !== 'sign' && view.waiting !== 'ended' ? (
        cancelling ? (
          <div
            className="actions"
            role="group"
            aria-label="Cancel the ceremony?"
            onKeyDown={(e) => {
              if (e.key === 'Escape') setCancelling(false);
            }}
          >
            <span>Cancel the ceremony? Its transcript still says what happened.</span>
            <button type="button" className="danger" onClick={() => void act('cancel').then(() => setCancelling(false))}>
              Cancel the ceremony
            </button>
            <button type="button" ref={keepGoing} onClick={() => setCancelling(false)}>
              Go on with it
            </button>
          </div>
        ) : (
          <div className="actions">
            <button type="button" onClick={() => setCancelling(true)}>
              Cancel the ceremony…
            </button>
          </div>
        )
      ) : null}
    </section>
  );
}

export function CeremoniesPanel(): React.JSX.Element {
  const { view, load } = useScript();
  useEffect(() => {
    void load();
  }, [load]);
  // Every section has its title as the screen's first heading.
  return (
    <section aria-labelledby="ceremonies-title">
      <h1 id="ceremonies-title">Ceremonies</h1>
      {view ? <Run view={view} /> : <ScriptChooser />}
    </section>
  );
}
