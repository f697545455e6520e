// The trash bin: invalidated keys with what they were (objects, usage before, who, when), their
// state as the partition shows it, and what is wrong with a record; filtered by a box. One key is
// reactivated, one or many destroyed for good, each through its ceremony (the SO quorum approves;
// the ceremony's confirmation names each key), shown by the Keys section's CeremonyPanel.
import { useState } from 'react';
import { loginProblem } from '../../shared/ceremonies';
import type { InvalidatedKeyView } from '../../shared/types';
import { ErrorMessage } from '../components/ErrorMessage';
import { usePartition } from '../stores/partition';
import { useQuorum } from '../stores/quorum';
import { useTrashBin } from '../stores/trashBin';
import { classWords, usageOn, when } from './ApprovalDetails';

const stateWords: Record<InvalidatedKeyView['state'], string> = {
  invalidated: 'Invalidated: unusable',
  'usable-again': 'Usable again (changed outside the terminal)',
  missing: 'Gone from the partition',
  'not-checked': 'Not checked (needs the crypto-officer login)',
};

function matches(k: InvalidatedKeyView, text: string): boolean {
  const words = text.toLocaleLowerCase().split(/\s+/).filter(Boolean);
  const haystack = `${k.id} ${k.label} ${k.invalidatedBy} ${k.objects.map((o) => `${o.class} ${o.keyType ?? ''} ${o.label}`).join(' ')} ${k.state}`.toLocaleLowerCase();
  return words.every((w) => haystack.includes(w));
}

const name = (k: InvalidatedKeyView): string => `“${k.label || '(no label)'}” (id ${k.id})`;

export function TrashBin(): React.JSX.Element {
  const { keys, loaded, error, load } = useTrashBin();
  const start = useQuorum((s) => s.start);
  const loggedIn = usePartition((s) => s.view?.token.loggedIn ?? false);
  const [filter, setFilter] = useState('');
  const [chosen, setChosen] = useState<Set<string>>(() => new Set());
  const visible = keys.filter((k) => matches(k, filter));
  // A key chosen before and gone from the bin since is not destroyed by mistake.
  const selected = keys.filter((k) => k.id && chosen.has(k.id));
  const problem = loginProblem('key-destroy', { cryptoOfficer: loggedIn, securityOfficer: false });
  const toggle = (id: string, on: boolean): void => {
    const next = new Set(chosen);
    if (on) next.add(id);
    else next.delete(id);
    setChosen(next);
  };
  return (
    <section className="panel" aria-labelledby="bin-title">
      <div className="row">
        <h2 id="bin-title" className="grow">
          Trash bin
        </h2>
        <button type="button" onClick={() => void load()}>
          Read the trash bin again
        </button>
      </div>
      <p>Invalidated keys stay in the partition, unusable: they still take space and keep their label and id, so a new key with the same label or id would collide with one of them. Reactivating a key needs a quorum of the SO card set; destroying keys needs the approvals the partition policy asks for.</p>
      {!loggedIn ? (
        <p className="notice notice-warning" role="note">
          The crypto officer is not logged in: this list is this terminal's records only (the partition's own trash bin and each key's state are read with the crypto-officer login), and reactivating or destroying a key needs the crypto-officer login (Partition).
        </p>
      ) : null}
      {error ? <ErrorMessage error={error} /> : null}
      <div className="row">
        <label htmlFor="bin-filter">Filter</label>
        <input id="bin-filter" type="search" className="grow" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="id, label, type, who…" />
      </div>
      <p role="status" className="muted">
        {loaded ? `${visible.length} of ${keys.length} invalidated keys shown` : ''}
      </p>
      {keys.length === 0 && loaded ? (
        <p>The trash bin is empty.</p>
      ) : (
        <div className="table-scroll">
          <table className="plain bin" aria-label="Invalidated keys">
            <thead>
              <tr>
                <th scope="col">Destroy</th>
                <th scope="col">ID</th>
                <th scope="col">Label</th>
                <th scope="col">Objects</th>
                <th scope="col">Usage before</th>
                <th scope="col">Invalidated (when, by whom)</th>
                <th scope="col">State and problem</th>
                <th scope="col">Reactivate</th>
              </tr>
            </thead>
            <tbody>
              {visible.map((k, i) => (
                <tr key={k.id || `unreadable-${i}`} className={k.problem ? 'flagged' : undefined}>
                  <td>{k.id ? <input type="checkbox" aria-label={`Choose ${name(k)} to destroy`} checked={chosen.has(k.id)} disabled={problem !== null} onChange={(e) => toggle(k.id, e.target.checked)} /> : null}</td>
                  <td className="mono">{k.id || '—'}</td>
                  <td className="bin-label">{k.label || '(no label)'}</td>
                  <td>{k.objects.map((o) => `${classWords[o.class]}${o.keyType ? ` (${o.keyType})` : ''}`).join(', ') || '—'}</td>
                  <td>
                    {k.objects.map((o) => (
                      <div key={o.class}>
                        {classWords[o.class]}: <span className="mono">{usageOn(o.usage)}</span>
                      </div>
                    ))}
                  </td>
                  <td>
                    <div className="bin-when">{k.invalidatedAt ? when(k.invalidatedAt) : 'not recorded'}</div>
                    <div>by {k.invalidatedBy || 'nobody recorded'}</div>
                  </td>
                  <td>
                    <div>{stateWords[k.state]}</div>
                    {k.problem ? <div className="outcome-failed">Problem: {k.problem}</div> : null}
                  </td>
                  <td>
                    {k.id ? (
                      <button type="button" aria-label={`Reactivate ${name(k)}`} disabled={problem !== null || k.state === 'missing'} onClick={() => void start({ kind: 'key-reactivate', id: k.id })}>
                        Reactivate
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="row">
        <button type="button" className="danger" disabled={problem !== null || selected.length === 0} onClick={() => void start({ kind: 'key-destroy', ids: selected.map((k) => k.id) })}>
          {selected.length === 0 ? 'Destroy the chosen keys for good' : `Destroy ${selected.length === 1 ? name(selected[0] as InvalidatedKeyView) : `${selected.length} chosen keys`} for good`}
        </button>
        <span className="muted">{problem ?? (selected.length === 0 ? 'Choose the keys to destroy first (Destroy column).' : 'The next screen names each key again before anything is destroyed.')}</span>
      </div>
    </section>
  );
}
