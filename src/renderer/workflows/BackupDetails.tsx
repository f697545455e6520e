// What backup and restore ceremonies show besides the prompt: the preview officers confirm, the
// progress of long work, the listing they choose from when restoring, and the reports at the end.
import { useState } from 'react';
import type { BackupObjectLine, BackupReport, CeremonyView, RestoreLine, RestoreReport } from '../../shared/types';
import { useQuorum } from '../stores/quorum';

const classWords: Record<BackupObjectLine['class'], string> = { data: 'Data', certificate: 'Certificate', 'public-key': 'Public key', 'private-key': 'Private key', 'secret-key': 'Secret key' };

function Lines({ lines, name }: { lines: BackupObjectLine[]; name: string }): React.JSX.Element {
  return (
    <table className="plain" aria-label={name}>
      <thead>
        <tr>
          <th scope="col">Class</th>
          <th scope="col">Label</th>
          <th scope="col">ID</th>
          {lines.some((l) => l.reason) ? <th scope="col">Why not</th> : null}
        </tr>
      </thead>
      <tbody>
        {lines.map((l, i) => (
          <tr key={`${l.class}-${l.id}-${i}`}>
            <td>{classWords[l.class]}</td>
            <td>{l.label || '(no label)'}</td>
            <td className="mono">{l.id || '—'}</td>
            {l.reason ? <td>{l.reason}</td> : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Progress({ view }: { view: CeremonyView }): React.JSX.Element | null {
  if (!view.progress) return null;
  const { done, total } = view.progress;
  return (
    <p>
      <label htmlFor="ceremony-progress">
        {done} of {total} objects
      </label>{' '}
      <progress id="ceremony-progress" aria-label="Progress" max={total} value={done}>
        {done} of {total}
      </progress>
    </p>
  );
}

export function Preview({ view }: { view: CeremonyView }): React.JSX.Element | null {
  const d = view.detail;
  if (d?.kind !== 'backup-preview') return null;
  return (
    <section aria-labelledby="preview-title">
      <h3 id="preview-title">What goes into the backup</h3>
      <p>
        To {d.media.label}: {(d.media.free / 1e6).toFixed(1)} MB free; this backup needs about {(d.estimatedBytes / 1e6).toFixed(2)} MB.
      </p>
      <Lines lines={d.included} name="Objects in the backup" />
      {d.excluded.length > 0 ? (
        <>
          <h3>What cannot be backed up</h3>
          <Lines lines={d.excluded} name="Objects left out" />
        </>
      ) : null}
    </section>
  );
}

const stateWords: Record<RestoreLine['state'], string> = { new: 'Not in the partition', identical: 'Already in the partition, as backed up', conflict: 'Conflict', excluded: 'Not in the backup' };

export function RestoreChoice({ view }: { view: CeremonyView }): React.JSX.Element | null {
  const choose = useQuorum((s) => s.choose);
  const d = view.detail;
  const lines = d?.kind === 'restore-choice' ? d.objects : [];
  const [selected, setSelected] = useState(() => new Set(lines.filter((l) => l.state !== 'excluded').map((l) => l.index)));
  const [replace, setReplace] = useState(() => new Set<number>());
  if (d?.kind !== 'restore-choice') return null;
  const toggle = (set: Set<number>, index: number, on: boolean): Set<number> => {
    const next = new Set(set);
    if (on) next.add(index);
    else next.delete(index);
    return next;
  };
  const asking = view.prompt.kind === 'choose-objects';
  return (
    <section aria-labelledby="choice-title">
      <h3 id="choice-title">
        Backup of “{d.backup.partition.label}” (serial {d.backup.partition.serial}), {d.backup.created}
      </h3>
      <table className="plain" aria-label="Objects in the backup">
        <thead>
          <tr>
            <th scope="col">Restore</th>
            <th scope="col">Class</th>
            <th scope="col">Label</th>
            <th scope="col">ID</th>
            <th scope="col">In this partition</th>
          </tr>
        </thead>
        <tbody>
          {lines.map((l) => (
            <tr key={l.index}>
              <td>
                {l.state === 'excluded' ? null : (
                  <input type="checkbox" aria-label={`Restore ${l.label || l.id}`} disabled={!asking} checked={selected.has(l.index)} onChange={(e) => setSelected(toggle(selected, l.index, e.target.checked))} />
                )}
              </td>
              <td>{classWords[l.class]}</td>
              <td>{l.label || '(no label)'}</td>
              <td className="mono">{l.id || '—'}</td>
              <td>
                {stateWords[l.state]}
                {l.state === 'excluded' ? `: ${l.reason}` : null}
                {l.state === 'conflict' ? (
                  <label>
                    {' '}
                    with {l.conflictWith}.{' '}
                    <input type="checkbox" disabled={!asking || !selected.has(l.index)} checked={replace.has(l.index)} onChange={(e) => setReplace(toggle(replace, l.index, e.target.checked))} /> Replace it
                  </label>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {asking ? (
        <button type="button" onClick={() => void choose([...selected], [...replace].filter((i) => selected.has(i)))}>
          Restore {selected.size} object{selected.size === 1 ? '' : 's'}
        </button>
      ) : null}
    </section>
  );
}

export function BackupResult({ report }: { report: BackupReport }): React.JSX.Element {
  return (
    <section aria-labelledby="backup-result-title">
      <h3 id="backup-result-title">Backup written and verified</h3>
      <p role="status">
        {report.objects} objects backed up to {report.file}; read back from the media and verified. SHA-256 <span className="mono">{report.sha256}</span>
      </p>
      {report.left.length > 0 ? <Lines lines={report.left} name="Objects left out" /> : null}
    </section>
  );
}

export function RestoreResult({ report }: { report: RestoreReport }): React.JSX.Element {
  const counts = Object.entries(report.counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k.replace('-', ' ')}`)
    .join(', ');
  return (
    <section aria-labelledby="restore-result-title">
      <h3 id="restore-result-title">Restore report</h3>
      <p role="status">
        Into “{report.target.label}” (serial {report.target.serial}): {counts}.
      </p>
      <table className="plain" aria-label="Restored objects">
        <thead>
          <tr>
            <th scope="col">Outcome</th>
            <th scope="col">Class</th>
            <th scope="col">Label</th>
            <th scope="col">Check</th>
            <th scope="col">Not kept by the partition</th>
          </tr>
        </thead>
        <tbody>
          {report.objects.map((o) => (
            <tr key={o.index}>
              <td>{o.outcome.replace('-', ' ')}</td>
              <td>{classWords[o.class]}</td>
              <td>{o.label || '(no label)'}</td>
              <td>{o.check ?? o.message ?? '—'}</td>
              <td>{o.notPreserved.join('; ') || '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
