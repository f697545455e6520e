// Audit: the tamper-evident record, newest first, with the result of verifying the whole chain, and
// the export of the log to a USB stick for an auditor (checked offline: docs/audit-export.md).
import { useEffect, useState } from 'react';
import { ErrorMessage } from '../components/ErrorMessage';
import { useAudit } from '../stores/audit';
import { usePartition } from '../stores/partition';

type Period = 'all' | 'last-export' | 'dates';

/** The export form: which stick, which period; the result says what the seals cover. */
function ExportPanel(): React.JSX.Element {
  const { media, exported, exportError, exporting, loadMedia, exportTo } = useAudit();
  const loggedIn = usePartition((s) => s.view?.token.loggedIn ?? false);
  const [chosen, setChosen] = useState<string>('');
  const [period, setPeriod] = useState<Period>('last-export');
  const [from, setFrom] = useState('');
  const [until, setUntil] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    void loadMedia();
  }, [loadMedia]);
  const target = media.find((m) => m.path === chosen) ?? (media.length === 1 ? media[0] : undefined);
  return (
    <section className="panel" aria-labelledby="export-title">
      <h2 id="export-title">Export the log for an auditor</h2>
      <p className="muted">
        Every entry with both chains, the heads sealed by the partition and its audit key, written to the stick and read back. An auditor checks it on any machine: <span className="mono">tessera audit verify-export FILE</span>, or with openssl and jq alone.
        {loggedIn ? ' The crypto officer is logged in: the partition seals the log\'s head first, so every entry is vouched for.' : ' Log in as crypto officer first to have the partition seal the newest entries.'}
      </p>
      <form
        className="stack"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (!target) {
            setProblem(media.length === 0 ? 'No USB stick is inserted. Insert one, then look again.' : 'Choose the USB stick first.');
            return;
          }
          if (period === 'dates' && from === '') {
            setProblem('Give the first day of the period.');
            return;
          }
          if (period === 'dates' && until !== '' && until < from) {
            setProblem('The period ends before it begins.');
            return;
          }
          setProblem(null);
          void exportTo(target.path, period === 'all' ? null : period === 'last-export' ? 'last-export' : from, period === 'dates' && until !== '' ? until : null);
        }}
      >
        <fieldset>
          <legend>USB stick</legend>
          {media.length === 0 ? <p>No USB stick is inserted.</p> : null}
          {media.map((m) => (
            <label key={m.path} className="choice">
              <input type="radio" name="export-media" value={m.path} checked={target?.path === m.path} onChange={() => setChosen(m.path)} /> {m.label} <span className="muted">({m.path})</span>
            </label>
          ))}
          <button type="button" onClick={() => void loadMedia()}>
            Look again
          </button>
        </fieldset>
        <fieldset>
          <legend>Entries</legend>
          <label className="choice">
            <input type="radio" name="export-period" checked={period === 'last-export'} onChange={() => setPeriod('last-export')} /> Everything since the last export
          </label>
          <label className="choice">
            <input type="radio" name="export-period" checked={period === 'all'} onChange={() => setPeriod('all')} /> The whole log
          </label>
          <label className="choice">
            <input type="radio" name="export-period" checked={period === 'dates'} onChange={() => setPeriod('dates')} /> A period (days in UTC)
          </label>
          {period === 'dates' ? (
            <div className="row">
              <label htmlFor="export-from">From</label>
              <input id="export-from" type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
              <label htmlFor="export-until">to (included)</label>
              <input id="export-until" type="date" value={until} onChange={(e) => setUntil(e.target.value)} />
            </div>
          ) : null}
        </fieldset>
        {problem ? (
          <p className="field-error" role="alert">
            {problem}
          </p>
        ) : null}
        {exportError ? <ErrorMessage error={exportError} /> : null}
        <button type="submit" className="primary" disabled={exporting}>
          {exporting ? 'Exporting…' : target ? `Export to ${target.label}` : 'Export'}
        </button>
      </form>
      {exported ? (
        <div className="ok" role="status" aria-label="Export written">
          <p>
            Entries {exported.from} to {exported.through} ({exported.entries}) written to <span className="mono">{exported.path}</span>, read back and verified; recorded in entry {exported.recordedIn}.
          </p>
          <p>
            SHA-256 <span className="mono">{exported.sha256}</span>
          </p>
          <p>{exported.unsealed ? `Entries ${exported.unsealed.from} to ${exported.unsealed.through} are not sealed by the partition yet: nobody an auditor can check vouches for them until a crypto-officer session seals the log.` : 'Every entry is covered by a seal of the partition.'}</p>
        </div>
      ) : null}
    </section>
  );
}

export function AuditView(): React.JSX.Element {
  const { entries, more, verification, error, load, loadOlder, verify } = useAudit();
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <section aria-labelledby="audit-title">
      <div className="row">
        <h1 id="audit-title" className="grow">
          Audit log
        </h1>
        <button type="button" onClick={() => void verify()}>
          Verify now
        </button>
      </div>
      {error ? <ErrorMessage error={error} /> : null}
      <ExportPanel />
      {verification ? (
        verification.intact ? (
          <p className="ok" role="status">
            Log intact: all {verification.entries} entries verified.
          </p>
        ) : (
          <div className="error" role="alert">
            <strong>Tampering detected:</strong> {verification.problem?.message}
          </div>
        )
      ) : null}
      <table className="plain audit" aria-label="Audit entries">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Time (UTC)</th>
            <th scope="col">Outcome</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Who</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.seq} className={verification?.problem?.seq === e.seq ? 'flagged' : undefined}>
              <td>{e.seq}</td>
              <td>{e.time.replace('T', ' ').replace('Z', '')}</td>
              <td className={`outcome-${e.outcome}`}>{e.outcome}</td>
              <td>{e.action}</td>
              <td>{e.target}</td>
              <td>{e.actor}</td>
              <td>
                {Object.entries(e.details)
                  .map(([k, v]) => `${k}: ${String(v)}`)
                  .join('; ')}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {entries.length === 0 ? <p className="muted">No entries yet.</p> : null}
      {more ? (
        <button type="button" onClick={() => void loadOlder()}>
          Show older entries
        </button>
      ) : null}
    </section>
  );
}
