// Partition: choose the module and partition (remembered for next time), read its status in plain
// words, and log in as crypto officer.
import { useRef, useState } from 'react';
import type { PartitionView, PinStatus } from '../../shared/types';
import { ErrorMessage } from '../components/ErrorMessage';
import { FinalTry } from '../components/FinalTry';
import { formatBytes, formatCount } from '../format';
import { usePartition } from '../stores/partition';
import { useQuorum } from '../stores/quorum';

function bytes(value: number | null): string {
  return value === null ? 'not reported' : formatBytes(value);
}

function memory(free: number | null, total: number | null): string {
  if (free === null && total === null) return 'not reported';
  return `${bytes(free)} of ${bytes(total)}`;
}

function sessions(open: number | null, max: number | null): string {
  // CK_EFFECTIVELY_INFINITE (0) means the token sets no limit.
  const limit = max === null ? '' : max === 0 ? ', no limit' : `, at most ${formatCount(max)}`;
  return `${open === null ? 'not reported' : formatCount(open)}${limit}`;
}

function Pin({ label, status }: { label: string; status: PinStatus }): React.JSX.Element {
  return (
    <div className="pin-status">
      <dt>{label}</dt>
      <dd className={`pin pin-${status.condition}`}>{status.words}</dd>
    </div>
  );
}

function ModuleChooser(): React.JSX.Element {
  const { modules, modulePath, choice, busy, setModulePath, openModule, select } = usePartition();
  const usable = modules?.modules.filter((m) => m.refusal === null) ?? [];
  const labels = choice?.tokens.map((t) => t.label) ?? [];
  const repeated = [...new Set(labels.filter((label, i) => labels.indexOf(label) !== i))];
  const chosen = usable.some((m) => m.path === modulePath);
  return (
    <section className="panel" aria-labelledby="choose-title">
      <h2 id="choose-title">Choose a partition</h2>
      {modules && modules.modules.length === 0 ? (
        <p className="notice">
          No PKCS#11 module may be used on this workstation yet. {modules.problem ?? `The workstation's administrator must list the approved modules in ${modules.file}.`}
        </p>
      ) : modules?.problem ? (
        <p className="notice">{modules.problem}</p>
      ) : null}
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void openModule();
        }}
      >
        <fieldset hidden={!modules || modules.modules.length === 0}>
          <legend>PKCS#11 module</legend>
          <ul className="choices module-choices" aria-label="Approved modules">
            {(modules?.modules ?? []).map((m) => (
              <li key={m.path}>
                <label>
                  <input type="radio" name="module" value={m.path} checked={m.path === modulePath} disabled={busy || m.refusal !== null} onChange={() => setModulePath(m.path)} />
                  {` ${m.name} `}
                  <span className="muted wrap">{m.path}</span>
                </label>
                {m.refusal ? <p className="muted">Refused: {m.refusal}.</p> : null}
              </li>
            ))}
          </ul>
        </fieldset>
        <button type="submit" disabled={busy || !chosen}>
          Open module
        </button>
      </form>
      {choice ? (
        <div>
          <p>
            {choice.module.description} {choice.module.libraryVersion} by {choice.module.manufacturer}
            {choice.uninitialisedSlots > 0 ? ` — ${choice.uninitialisedSlots} empty slot(s) not shown` : ''}
          </p>
          {choice.tokens.length === 0 ? <p>This module offers no initialised partition.</p> : null}
          {choice.notRescanned ? (
            <p className="notice notice-warning" role="note" aria-label="Partitions not read afresh">
              {choice.notRescanned}
            </p>
          ) : null}
          {repeated.length > 0 ? (
            <p className="notice" role="note">
              {repeated.length === 1 ? `Several partitions are labelled “${repeated[0]}”` : `Several partitions share a label (${repeated.map((label) => `“${label}”`).join(', ')})`}: tell them apart by serial.
            </p>
          ) : null}
          <ul className="choices" aria-label="Partitions">
            {choice.tokens.map((t) => (
              <li key={t.serial}>
                <button type="button" onClick={() => void select(t.serial)} disabled={busy}>
                  Use “{t.label}” (serial <span className="serial">{t.serial}</span>)
                </button>
                <span className="muted">
                  {' '}
                  {t.manufacturer} {t.model}
                </span>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}

function LoginPanel({ view }: { view: PartitionView }): React.JSX.Element {
  const { busy, loginError, login, logout } = usePartition();
  const soActive = useQuorum((s) => s.so?.active ?? false);
  const pinInput = useRef<HTMLInputElement>(null);
  const [lastTryAccepted, acceptLastTry] = useState(false);
  const finalTry = view.token.userPin.condition === 'final-try';
  if (soActive) {
    return (
      <section className="panel" aria-labelledby="login-title">
        <h2 id="login-title">Crypto-officer login</h2>
        <p role="note">A security officer is logged in. The partition allows one login at a time: the crypto officer can log in once the SO session ends.</p>
      </section>
    );
  }
  if (view.token.loggedIn) {
    return (
      <section className="panel" aria-labelledby="login-title">
        <h2 id="login-title">Crypto-officer login</h2>
        <p role="status">Logged in as crypto officer. Private objects are visible in Keys.</p>
        <button type="button" onClick={() => void logout()} disabled={busy}>
          Log out
        </button>
      </section>
    );
  }
  return (
    <section className="panel" aria-labelledby="login-title">
      <h2 id="login-title">Crypto-officer login</h2>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          const input = pinInput.current;
          if (!input) return;
          if (input.value === '') {
            usePartition.setState({ loginError: { code: 'PIN_INVALID', message: 'Type the crypto-officer PIN first.' } });
            input.focus();
            return;
          }
          if (finalTry && !lastTryAccepted) return;
          const pin = input.value;
          input.value = '';
          void login(pin, finalTry && lastTryAccepted).then((done) => {
            acceptLastTry(false);
            if (!done) input.focus();
          });
        }}
      >
        <label htmlFor="co-pin">Crypto-officer PIN</label>
        <input id="co-pin" ref={pinInput} type="password" autoComplete="off" aria-describedby={loginError ? 'login-error' : undefined} />
        {finalTry ? <FinalTry accepted={lastTryAccepted} onAccept={acceptLastTry} disabled={busy} /> : null}
        <button type="submit" disabled={busy || (finalTry && !lastTryAccepted)}>
          Log in
        </button>
      </form>
      {loginError ? <ErrorMessage error={loginError} id="login-error" /> : null}
    </section>
  );
}

export function PartitionDashboard(): React.JSX.Element {
  const { view, error } = usePartition();
  return (
    <section aria-labelledby="partition-title">
      <h1 id="partition-title">{view ? `Partition “${view.token.label}”` : 'Partition'}</h1>
      {error ? <ErrorMessage error={error} /> : null}
      {view ? (
        <>
          <div className="grid">
            <section className="panel" aria-labelledby="token-title">
              <h2 id="token-title">Token</h2>
              <dl>
                <dt>Label</dt>
                <dd>{view.token.label}</dd>
                <dt>Serial</dt>
                <dd>{view.token.serial}</dd>
                <dt>Device</dt>
                <dd>
                  {view.token.manufacturer} {view.token.model}
                </dd>
                <dt>Hardware / firmware</dt>
                <dd>
                  {view.token.hardwareVersion} / {view.token.firmwareVersion}
                </dd>
                <dt>Module</dt>
                <dd className="wrap">{view.token.module.path}</dd>
                <dt>Clock</dt>
                <dd>{view.token.clock ?? 'no clock'}</dd>
              </dl>
            </section>
            <section className="panel" aria-labelledby="pins-title">
              <h2 id="pins-title">PIN status</h2>
              <dl>
                <Pin label="Crypto officer (user) PIN" status={view.token.userPin} />
                <Pin label="Security officer PIN" status={view.token.soPin} />
                <dt>PIN length</dt>
                <dd>
                  {view.token.pinLength.min} to {view.token.pinLength.max} characters
                </dd>
              </dl>
            </section>
            <section className="panel" aria-labelledby="memory-title">
              <h2 id="memory-title">Memory and sessions</h2>
              <dl>
                <dt>Public memory free</dt>
                <dd>{memory(view.token.memory.publicFree, view.token.memory.publicTotal)}</dd>
                <dt>Private memory free</dt>
                <dd>{memory(view.token.memory.privateFree, view.token.memory.privateTotal)}</dd>
                <dt>Sessions open</dt>
                <dd>{sessions(view.token.sessions.open, view.token.sessions.max)}</dd>
              </dl>
            </section>
            <LoginPanel view={view} />
          </div>
          <section className="panel" aria-labelledby="flags-title">
            <h2 id="flags-title">Token flags</h2>
            <ul className="flags">
              {view.token.flags.map((f) => (
                <li key={f}>{f}</li>
              ))}
            </ul>
          </section>
          <details className="panel">
            <summary>Mechanisms ({formatCount(view.mechanisms.length)})</summary>
            <table className="plain">
              <thead>
                <tr>
                  <th scope="col">Mechanism</th>
                  <th scope="col">Key sizes</th>
                  <th scope="col">Functions</th>
                </tr>
              </thead>
              <tbody>
                {view.mechanisms.map((m) => (
                  <tr key={m.type}>
                    <td>{m.name}</td>
                    <td>{m.maxKeySize ? `${formatCount(m.minKeySize)}–${formatCount(m.maxKeySize)}` : '—'}</td>
                    <td>{m.flags.join(', ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      ) : null}
      <ModuleChooser />
    </section>
  );
}
