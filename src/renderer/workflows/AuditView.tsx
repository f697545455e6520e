// Audit: the tamper-evident record, newest first, with the result of verifying the whole chain.
import { useEffect } from 'react';
import { ErrorMessage } from '../components/ErrorMessage';
import { useAudit } from '../stores/audit';

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
