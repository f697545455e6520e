// What backup and restore ceremonies show besides the prompt: the preview officers confirm, the
// progress of long work, the listing they choose from when restoring, and the reports at the end.
import { useState } from 'react';
import type { BackupObjectLine, BackupReport, CeremonyView, RestoreLine, RestoreOutcome, RestoreOutcomeKind, RestoreReport } from '../../shared/types';
import { formatBytes, formatCount, formatDateTime } from '../format';
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
          {lines.some((l) => l.unreadable) ? <th scope="col">Attributes the HSM would not read</th> : null}
        </tr>
      </thead>
      <tbody>
        {lines.map((l, i) => (
          <tr key={`${l.class}-${l.id}-${i}`}>
            <td>{classWords[l.class]}</td>
            <td>{l.label || '(no label)'}</td>
            <td className="mono">{l.id || '—'}</td>
            {l.reason ? <td>{l.reason}</td> : null}
            {lines.some((x) => x.unreadable) ? <td>{l.unreadable ? l.unreadable.join('; ') : '—'}</td> : null}
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
        {formatCount(done)} of {formatCount(total)} objects
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
        To {d.media.label}: {formatBytes(d.media.free)} free; this backup needs about {formatBytes(d.estimatedBytes)}.
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

/**
 * What the chosen objects come to: how many are written (new ones, and conflicts to replace), the
 * button's words, and why it would do nothing (then the button is disabled).
 */
export function restorePlan(lines: RestoreLine[], selected: Set<number>, replace: Set<number>): { writes: number; replace: number; label: string; why: string | null } {
  const chosen = lines.filter((l) => selected.has(l.index));
  const fresh = chosen.filter((l) => l.state === 'new').length;
  const replaced = chosen.filter((l) => l.state === 'conflict' && replace.has(l.index)).length;
  const present = chosen.filter((l) => l.state === 'identical').length;
  const skipped = chosen.filter((l) => l.state === 'conflict' && !replace.has(l.index)).length;
  const writes = fresh + replaced;
  const objects = (n: number): string => `${formatCount(n)} object${n === 1 ? '' : 's'}`;
  const parts = [fresh > 0 ? `restore ${objects(fresh)}` : null, replaced > 0 ? `replace ${objects(replaced)}` : null].filter(Boolean).join(' and ');
  const label = writes === 0 ? 'Nothing to restore' : parts.charAt(0).toUpperCase() + parts.slice(1);
  const why =
    writes > 0
      ? [present > 0 ? `${objects(present)} already there ${present === 1 ? 'is' : 'are'} kept` : null, skipped > 0 ? `${objects(skipped)} in conflict ${skipped === 1 ? 'is' : 'are'} skipped` : null].filter(Boolean).join('; ') || null
      : chosen.length === 0
        ? 'No object is chosen: tick at least one, or cancel the restore.'
        : `Every object chosen is already in the partition as backed up${skipped > 0 ? ', or is a conflict you chose to skip' : ''}: there is nothing to write. Tick “Replace it” for a conflict, or cancel the restore.`;
  return { writes, replace: replaced, label, why: why ? `${why.charAt(0).toUpperCase()}${why.slice(1)}${why.endsWith('.') ? '' : '.'}` : null };
}

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
  const plan = restorePlan(lines, selected, replace);
  return (
    <section aria-labelledby="choice-title">
      <h3 id="choice-title">
        Backup of “{d.backup.partition.label}” (serial {d.backup.partition.serial}), <span className="nowrap">{formatDateTime(d.backup.created)}</span>
      </h3>
      {asking && view.prompt.refusal ? <p role="alert">{view.prompt.refusal}</p> : null}
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
        <div className="row">
          <button type="button" className={plan.replace > 0 ? 'danger' : 'primary'} disabled={plan.writes === 0} aria-describedby={plan.why ? 'restore-why' : undefined} onClick={() => void choose([...selected], [...replace].filter((i) => selected.has(i)))}>
            {plan.label}
          </button>
          {plan.why ? (
            <p id="restore-why" className="muted">
              {plan.why}
            </p>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

export function BackupResult({ report }: { report: BackupReport }): React.JSX.Element {
  return (
    <section aria-labelledby="backup-result-title">
      <h3 id="backup-result-title">Backup written and verified</h3>
      <p role="status">
        {formatCount(report.objects)} objects backed up to <span className="mono">{report.file}</span>; read back from the media and verified. SHA-256 <span className="mono">{report.sha256}</span>
      </p>
      {report.left.length > 0 ? (
        <>
          <h4>Not in the backup ({formatCount(report.left.length)})</h4>
          <Lines lines={report.left} name="Objects left out" />
        </>
      ) : null}
      {report.incomplete.length > 0 ? (
        <>
          <h4>In the backup without some attributes ({formatCount(report.incomplete.length)})</h4>
          <p>The HSM would not read these attributes, so a restore cannot bring them back.</p>
          <Lines lines={report.incomplete} name="Objects backed up without some attributes" />
        </>
      ) : null}
    </section>
  );
}

/** Each outcome in words, with a mark that does not rely on colour. */
const outcomeWords: Record<RestoreOutcomeKind, string> = {
  restored: 'Restored and checked',
  replaced: 'Replaced and checked',
  'already-present': 'Already there',
  skipped: 'Skipped: a conflict',
  'not-selected': 'Not chosen',
  excluded: 'Not in the backup',
  failed: 'FAILED',
};

/** An outcome in words, e.g. "Restored and checked", "Not in the backup (not extractable)". */
export function outcomeText(o: RestoreOutcome): string {
  if ((o.outcome === 'restored' || o.outcome === 'replaced') && !o.check?.startsWith('passed')) return o.outcome === 'restored' ? 'Restored, not checked' : 'Replaced, not checked';
  if (o.outcome === 'excluded') {
    const why = (o.reason ?? o.message ?? '').split(':')[0]?.replace(/\s*\(.*\)$/, '').trim().toLowerCase();
    return why ? `Not in the backup (${why})` : 'Not in the backup';
  }
  return outcomeWords[o.outcome];
}

/** The report's counts in words, in the order officers read them; zero counts left out. */
export function countWords(counts: Record<RestoreOutcomeKind, number>): string {
  const order: RestoreOutcomeKind[] = ['restored', 'replaced', 'failed', 'already-present', 'skipped', 'not-selected', 'excluded'];
  const words: Record<RestoreOutcomeKind, string> = { restored: 'restored and checked', replaced: 'replaced and checked', failed: 'FAILED', 'already-present': 'already there', skipped: 'skipped (conflicts)', 'not-selected': 'not chosen', excluded: 'not in the backup' };
  const out = order.filter((k) => counts[k] > 0).map((k) => `${formatCount(counts[k])} ${words[k]}`);
  return out.length > 0 ? out.join(', ') : 'nothing';
}

export function RestoreResult({ report }: { report: RestoreReport }): React.JSX.Element {
  return (
    <section aria-labelledby="restore-result-title">
      <h3 id="restore-result-title">Restore report</h3>
      <p role="status">
        Into “{report.target.label}” (serial {report.target.serial}): {countWords(report.counts)}.
      </p>
      <p className="muted">“Checked”: the key in the partition was compared with the backed-up key (check value, public key, or a test signature). The last column lists attributes the partition did not keep as backed up; the keys themselves were checked.</p>
      <div className="table-scroll">
        <table className="plain" aria-label="Restored objects">
          <thead>
            <tr>
              <th scope="col">Outcome</th>
              <th scope="col">Class</th>
              <th scope="col">Label</th>
              <th scope="col">ID</th>
              <th scope="col">Check</th>
              <th scope="col">Attributes not kept as backed up</th>
            </tr>
          </thead>
          <tbody>
            {report.objects.map((o) => (
              <tr key={o.index} className={`outcome-${o.outcome}`}>
                <td>
                  <span aria-hidden="true">{o.outcome === 'failed' ? '✗ ' : o.outcome === 'restored' || o.outcome === 'replaced' || o.outcome === 'already-present' ? '✓ ' : '– '}</span>
                  {outcomeText(o)}
                </td>
                <td>{classWords[o.class]}</td>
                <td>{o.label || '(no label)'}</td>
                <td className="mono">{o.id || '—'}</td>
                <td>{o.check ?? (o.outcome === 'excluded' ? o.reason : o.message) ?? '—'}</td>
                <td>
                  {o.notPreserved.length === 0 ? (
                    '—'
                  ) : (
                    <ul className="plain-list">
                      {o.notPreserved.map((n) => (
                        <li key={n}>{n}</li>
                      ))}
                    </ul>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
