// Keys: the partition's objects, sortable and filterable, virtualised so that 10,000 rows scroll
// smoothly; Enter or a click opens one object's full attribute set, from which a private or secret
// key is deleted (under key invalidation: invalidated, into the trash bin). Keys in the trash bin
// are marked "invalidated" in words, keys with attributes the token failed to read "some attributes
// unreadable". The trash bin is the section's second tab; a key ceremony (reactivate, destroy) under
// way replaces both. Keyboard: arrows move the focus between rows, Enter opens, Delete asks to delete
// the key of the row, Escape closes the details and gives the focus back to the row.
// Layout: the table takes the window's height left, so its header stays and its last row is
// reachable; the details go beside it and a table grown narrow (details open, 200% zoom) stacks each
// row's cells under its label rather than cutting words off; a narrow section puts the details below.
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState } from 'react';
import { ceremonyKinds } from '../../shared/ceremonies';
import { SETTING_WORDS, approvalsNeeded } from '../../shared/policy';
import { fromHex, labelIsEscaped } from '../../shared/label-text';
import type { InvalidatedKeyView, ObjectClassName, ObjectSummary, PolicyView } from '../../shared/types';
import { ErrorMessage } from '../components/ErrorMessage';
import { type SortKey, UNREADABLE_WORDS, classText, filterObjects, matchedUsages, protectionWords, sortObjects, stateWords } from '../inventory-filter';
import { useInventory } from '../stores/inventory';
import { usePartition } from '../stores/partition';
import { usePolicy } from '../stores/policy';
import { useQuorum } from '../stores/quorum';
import { useReloadWhenIdle } from '../stores/reload';
import { type KeysTab, inBin, useTrashBin } from '../stores/trashBin';
import { classWords, when } from './ApprovalDetails';
import { CeremonyPanel } from './CeremonyPanel';
import { TrashBin } from './TrashBin';

const ROW_HEIGHT = 34;

const columns: { key: SortKey; title: string }[] = [
  { key: 'label', title: 'Label' },
  { key: 'class', title: 'Class' },
  { key: 'keyType', title: 'Type' },
  { key: 'size', title: 'Bits' },
  { key: 'id', title: 'ID' },
];

const classLabels: Record<ObjectClassName | 'all', string> = {
  all: 'All classes',
  'private-key': 'Private keys',
  'public-key': 'Public keys',
  'secret-key': 'Secret keys',
  certificate: 'Certificates',
  data: 'Data objects',
  other: 'Other',
};

/**
 * A label as core shows it: plain text, or, where its bytes are not clean text (invalid UTF-8, control
 * characters), the escaped form in a monospace span marked as such, so `\xff` is seen, never obeyed.
 */
function LabelText({ summary }: { summary: ObjectSummary }): React.JSX.Element {
  if (summary.labelHex === '') return <>(no label)</>;
  if (!labelIsEscaped(fromHex(summary.labelHex))) return <>{summary.label}</>;
  return (
    <span className="mono label-escaped" title={`Not plain text; bytes ${summary.labelHex}`}>
      {summary.label}
    </span>
  );
}

const keyClasses: ObjectClassName[] = ['private-key', 'secret-key', 'public-key'];
const deletable = (o: ObjectSummary): boolean => (o.class === 'private-key' || o.class === 'secret-key') && o.id !== '';

/** “Signing Key 2026” (id 01): private key and public key — the key as a delete takes it (a pair counts once). */
function keyName(objects: ObjectSummary[], o: ObjectSummary): string {
  const present = new Set(objects.filter((x) => x.id === o.id).map((x) => x.class));
  const parts = keyClasses.filter((c) => present.has(c)).map((c) => classWords[c]);
  return `“${o.label || '(no label)'}” (id ${o.id}): ${parts.join(' and ')}`;
}

/** What a delete of `key` does under the policy in force, in words; `refused` when the policy forbids it. */
function deleteWords(policy: PolicyView | null, key: string): { does: string; refused: boolean; destroys: boolean } {
  if (!policy) return { does: `The partition policy could not be read: the terminal checks it when you delete ${key}.`, refused: false, destroys: false };
  const s = policy.policy.settings;
  if (s['read-only']) return { does: `${SETTING_WORDS['read-only'].title} is on in the partition policy: nothing may be changed or deleted, so the terminal refuses to delete ${key}.`, refused: true, destroys: false };
  if (!s['object-destruction']) return { does: `${SETTING_WORDS['object-destruction'].title} is off in the partition policy: every delete fails, so the terminal refuses to delete ${key}.`, refused: true, destroys: false };
  if (s['key-invalidation']) {
    return {
      does: `Key invalidation is on in the partition policy: ${key} is invalidated, not destroyed. Every usage attribute is turned off; the key is kept in the partition, unusable, in the trash bin. It still takes space and keeps its label and id. A quorum of the SO card set can reactivate it exactly as it was, or destroy it for good (Trash bin).`,
      refused: false,
      destroys: false,
    };
  }
  const k = approvalsNeeded(policy.policy, 'destroy', policy.set);
  return { does: `Key invalidation is off in the partition policy: a delete destroys ${key} for good, approved by ${k} of ${policy.set?.n ?? '?'} SO holders with their cards. Nobody can bring it back, except from a backup.`, refused: false, destroys: true };
}

function DeleteKey({ summary, asking, setAsking }: { summary: ObjectSummary; asking: boolean; setAsking(on: boolean): void }): React.JSX.Element | null {
  const objects = useInventory((s) => s.objects);
  const reload = useInventory((s) => s.load);
  const open = useInventory((s) => s.open);
  const { keys, deleteError, invalidated, invalidate, show } = useTrashBin();
  const policy = usePolicy((s) => s.view);
  const start = useQuorum((s) => s.start);
  const loggedIn = usePartition((s) => s.view?.token.loggedIn ?? false);
  const dialog = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (asking) dialog.current?.focus();
  }, [asking]);
  const binned = inBin(keys, summary.id);
  const done = invalidated && invalidated.id === summary.id ? invalidated : null;
  if (!keyClasses.includes(summary.class) || !summary.id) return null;
  if (binned) return <InBinNote binned={binned} done={done !== null} onOpen={() => show('bin')} />;
  if (!deletable(summary) || !loggedIn) return null;
  const key = keyName(objects, summary);
  const words = deleteWords(policy, key);
  const label = `“${summary.label || summary.id}”`;
  return (
    <section className="delete-key" aria-labelledby="delete-title">
      <h3 id="delete-title">Delete this key</h3>
      {deleteError ? <ErrorMessage error={deleteError} /> : null}
      {asking ? (
        <div
          className="confirm-cancel"
          role="alertdialog"
          aria-labelledby="delete-confirm-title"
          aria-describedby="delete-confirm-words"
          tabIndex={-1}
          ref={dialog}
          onKeyDown={(e) => {
            // Escape keeps the key, as "Keep the key" does.
            if (e.key === 'Escape') {
              e.stopPropagation();
              setAsking(false);
            }
          }}
        >
          <p id="delete-confirm-title">
            <strong>Delete {key}?</strong>
          </p>
          <p id="delete-confirm-words">{words.does}</p>
          <div className="row">
            <button
              type="button"
              className="danger"
              onClick={() => {
                if (words.destroys) {
                  void start({ kind: 'key-destroy', ids: [summary.id] });
                  setAsking(false);
                  return;
                }
                // Refused or done, the confirmation closes: the refusal (naming the setting) or the result stays.
                void invalidate(summary.id).then(async (ok) => {
                  setAsking(false);
                  if (!ok) return;
                  await reload();
                  await open(summary.ref);
                });
              }}
            >
              {words.destroys ? `Destroy ${label} for good…` : words.refused ? `Delete ${label}` : `Invalidate ${label}`}
            </button>
            <button type="button" onClick={() => setAsking(false)}>
              Keep the key
            </button>
          </div>
        </div>
      ) : (
        <>
          {words.refused ? (
            <p className="notice notice-warning" role="note">
              {words.does}
            </p>
          ) : null}
          <button type="button" onClick={() => setAsking(true)}>
            Delete {label}…
          </button>
        </>
      )}
    </section>
  );
}

function InBinNote({ binned, done, onOpen }: { binned: InvalidatedKeyView; done: boolean; onOpen(): void }): React.JSX.Element {
  return (
    <section className="delete-key" aria-labelledby="binned-title">
      <h3 id="binned-title">Invalidated: in the trash bin</h3>
      <p role={done ? 'status' : undefined}>
        {done ? `“${binned.label}” (id ${binned.id}) is invalidated and in the trash bin.` : `Invalidated${binned.invalidatedAt ? ` on ${when(binned.invalidatedAt)}` : ''}${binned.invalidatedBy ? ` by ${binned.invalidatedBy}` : ''}.`} It cannot be used, but it still takes space and keeps its label and id. Officers reactivate it or destroy it for good in the trash bin.
      </p>
      <button type="button" onClick={onOpen}>
        Open the trash bin
      </button>
    </section>
  );
}

/** An attribute's name as the lists show it: `startDate` as "start date"; CKA_ names as they are. */
const attributeWords = (name: string): string => (name.startsWith('CKA_') ? name : name.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`));

function Details({ asking, setAsking, onClose }: { asking: boolean; setAsking(on: boolean): void; onClose(): void }): React.JSX.Element | null {
  const { details, detailsError } = useInventory();
  const pane = useRef<HTMLElement>(null);
  // Where the pane goes below the table (narrow windows, 200% zoom), it is brought into view.
  useEffect(() => {
    if (details || detailsError) pane.current?.scrollIntoView?.({ block: 'nearest' });
  }, [details, detailsError]);
  if (!details && !detailsError) return null;
  const unreadable = details?.summary.unreadable.map((u) => ({ name: attributeWords(u.name), reason: u.reason })) ?? [];
  const unreadableNames = new Set(unreadable.map((u) => u.name));
  const withheld = details?.withheld.filter((w) => !unreadableNames.has(w.name)) ?? [];
  return (
    <aside
      ref={pane}
      className="details panel"
      aria-labelledby="details-title"
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <div className="row">
        <h2 id="details-title" className="grow wrap">
          {details ? <LabelText summary={details.summary} /> : 'Object'}
        </h2>
        <button type="button" onClick={onClose} aria-label="Close the details">
          Close
        </button>
      </div>
      {detailsError ? <ErrorMessage error={detailsError} /> : null}
      {details ? (
        <>
          <p className="wrap muted">{details.summary.uri}</p>
          {details.summary.class === 'certificate' && details.summary.subject ? (
            <p className="wrap">
              Subject {details.summary.subject}; serial {details.summary.serialNumber ?? '?'}; issuer {details.summary.issuer ?? '?'}
            </p>
          ) : null}
          {unreadable.length > 0 ? (
            <section className="notice notice-warning" aria-labelledby="unreadable-title">
              <h3 id="unreadable-title">
                <span aria-hidden="true">⚠ </span>Unreadable attributes
              </h3>
              <p>The token failed to read these attributes of this object; the rest of it is shown.</p>
              <ul aria-labelledby="unreadable-title">
                {unreadable.map((u) => (
                  <li key={u.name} className="wrap">
                    <strong>{u.name}</strong>: {u.reason}
                  </li>
                ))}
              </ul>
            </section>
          ) : null}
          <DeleteKey key={details.summary.ref} summary={details.summary} asking={asking} setAsking={setAsking} />
          <table className="plain" aria-label="Attributes">
            <tbody>
              {details.attributes.map((a) => (
                <tr key={a.type}>
                  <th scope="row">{a.name}</th>
                  <td className="wrap">{a.value}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {withheld.length > 0 ? (
            <>
              <h3>Not shown</h3>
              <ul>
                {withheld.map((w) => (
                  <li key={w.name}>
                    {w.name}: {w.reason}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </>
      ) : null}
    </aside>
  );
}

const rowId = (index: number): string => `inventory-row-${index}`;

/** One object's row: every cell wraps (never "private k…"); each cell names its column for the stacked layout. */
function ObjectRow({ o, index, active, binned, usageShown, start, measure, onOpen }: { o: ObjectSummary; index: number; active: boolean; binned: boolean; usageShown: string[]; start: number; measure(el: HTMLElement | null): void; onOpen(): void }): React.JSX.Element {
  const states = stateWords(o, { invalidated: new Set(binned ? [o.id] : []) });
  return (
    <div
      ref={measure}
      id={rowId(index)}
      data-index={index}
      role="row"
      aria-rowindex={index + 2}
      aria-selected={active}
      tabIndex={active ? 0 : -1}
      className={`tr${active ? ' active' : ''}${binned ? ' invalidated' : ''}`}
      style={{ position: 'absolute', top: 0, left: 0, right: 0, minHeight: ROW_HEIGHT, transform: `translateY(${start}px)` }}
      onClick={onOpen}
    >
      <div role="cell" className="td col-label" data-label="Label" title={o.label}>
        <LabelText summary={o} />
      </div>
      <div role="cell" className="td col-class" data-label="Class">
        {classText(o.class)}
      </div>
      <div role="cell" className="td col-keyType" data-label="Type">
        {o.keyType ?? ''}
      </div>
      <div role="cell" className="td col-size" data-label="Bits">
        {o.size ?? ''}
      </div>
      <div role="cell" className="td col-id" data-label="ID">
        {o.id}
      </div>
      <div role="cell" className="td col-state" data-label="State">
        {states.map((w) =>
          w === UNREADABLE_WORDS ? (
            <span key={w} className="state-unreadable" title={o.unreadable.map((u) => `${attributeWords(u.name)}: ${u.reason}`).join('\n')}>
              <span aria-hidden="true">⚠ </span>
              {w}
            </span>
          ) : (
            <span key={w} className="state-invalidated">
              {w}
            </span>
          ),
        )}
      </div>
      <div role="cell" className="td col-protection" data-label="Protection">
        {protectionWords(o).join(', ')}
      </div>
      <div role="cell" className="td col-usage" data-label="Usage">
        {o.usage.map((u, i) => (
          <span key={u}>
            {i > 0 ? ', ' : ''}
            {usageShown.includes(u) ? <mark>{u}</mark> : u}
          </span>
        ))}
      </div>
    </div>
  );
}

function Objects(): React.JSX.Element {
  const { objects, loading, loaded, error, filter, sort, load, setFilter, sortBy, open, close } = useInventory();
  const bin = useTrashBin((s) => s.keys);
  const clearDelete = useTrashBin((s) => s.clearDelete);
  const view = usePartition((s) => s.view);
  const scroller = useRef<HTMLDivElement>(null);
  const filterInput = useRef<HTMLInputElement>(null);
  const [activeRow, setActive] = useState(0);
  const [asking, setAsking] = useState(false);
  // A row that should take the focus once the virtualiser has rendered it (arrow keys, Escape).
  const focusWanted = useRef<number | null>(null);
  const invalidated = useMemo(() => new Set(objects.filter((o) => deletable(o) && inBin(bin, o.id)).map((o) => o.id)), [objects, bin]);
  const visible = useMemo(() => sortObjects(filterObjects(objects, filter, { invalidated }), sort), [objects, filter, sort, invalidated]);
  const active = Math.max(0, Math.min(activeRow, visible.length - 1));
  const virtualizer = useVirtualizer({ count: visible.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, getItemKey: (i) => visible[i]?.ref ?? i, overscan: 12 });
  const items = virtualizer.getVirtualItems();
  const activeRendered = items.some((i) => i.index === active);

  useEffect(() => {
    if (focusWanted.current === null) return;
    const row = document.getElementById(rowId(focusWanted.current));
    if (row) {
      row.focus({ preventScroll: true });
      focusWanted.current = null;
    }
  });

  const focusRow = (index: number): void => {
    focusWanted.current = index;
    document.getElementById(rowId(index))?.focus({ preventScroll: true });
  };
  const move = (index: number): void => {
    const next = Math.max(0, Math.min(visible.length - 1, index));
    setActive(next);
    virtualizer.scrollToIndex(next);
    focusRow(next);
  };
  const openRow = (o: ObjectSummary, deleting: boolean): void => {
    // The details of the row before go first, so a confirmation never shows against another key.
    close();
    clearDelete();
    setAsking(deleting);
    void open(o.ref);
  };
  const closeDetails = (): void => {
    close();
    setAsking(false);
    virtualizer.scrollToIndex(active);
    focusRow(active);
  };
  const clearFilter = (): void => {
    setFilter({ text: '', objectClass: 'all' });
    filterInput.current?.focus();
  };
  const usageShown = (o: ObjectSummary): string[] => (filter.text ? matchedUsages(o, filter.text) : []);
  const nothingMatches = loaded && objects.length > 0 && visible.length === 0;
  const filterWords = [filter.text.trim() ? `“${filter.text.trim()}”` : '', filter.objectClass !== 'all' ? `among ${classLabels[filter.objectClass].toLocaleLowerCase()}` : ''].filter(Boolean).join(' ');

  return (
    <div className="objects">
      <div className="row inventory-controls">
        <label htmlFor="key-filter">Filter</label>
        <input
          id="key-filter"
          ref={filterInput}
          type="search"
          className="grow"
          value={filter.text}
          onChange={(e) => setFilter({ text: e.target.value })}
          placeholder="label, id, type, protection, usage…"
          aria-describedby="key-filter-help"
        />
        <label htmlFor="key-class">Class</label>
        <select id="key-class" value={filter.objectClass} onChange={(e) => setFilter({ objectClass: e.target.value as ObjectClassName | 'all' })}>
          {Object.entries(classLabels).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
        <button type="button" onClick={() => void load()} disabled={loading || !view}>
          Refresh
        </button>
      </div>
      <p id="key-filter-help" className="sr-only">
        Searches label, class, type, bits, id, state, protection (for example “not extractable”) and usage (for example “sign”).
      </p>
      {error ? <ErrorMessage error={error} /> : null}
      <p role="status" className="muted">
        {loading ? 'Reading the partition…' : loaded ? `${visible.length} of ${objects.length} objects shown` : ''}
      </p>
      {invalidated.size > 0 ? (
        <p className="notice notice-warning" role="note">
          {invalidated.size === 1 ? 'One key is' : `${invalidated.size} keys are`} marked “invalidated”: in the trash bin, unusable. Invalidated keys still take space and keep their label and id, so a new key with the same label or id would collide with them.
        </p>
      ) : null}
      {nothingMatches ? (
        <div className="notice empty-message row" role="note">
          <span className="grow">No object matches {filterWords}.</span>
          <button type="button" onClick={clearFilter}>
            Clear the filter
          </button>
        </div>
      ) : null}
      <div
        className="split"
        onKeyDown={(e) => {
          if (e.key === 'Escape' && !e.defaultPrevented) {
            e.preventDefault();
            closeDetails();
          }
        }}
      >
        <div
          className="table"
          role="table"
          aria-label="Objects in the partition"
          aria-rowcount={visible.length + 1}
          tabIndex={activeRendered ? -1 : 0}
          onKeyDown={(e) => {
            const row = visible[active];
            if (e.key === 'ArrowDown') move(active + 1);
            else if (e.key === 'ArrowUp') move(active - 1);
            else if (e.key === 'Home') move(0);
            else if (e.key === 'End') move(visible.length - 1);
            else if (e.key === 'PageDown') move(active + 10);
            else if (e.key === 'PageUp') move(active - 10);
            else if (e.key === 'Enter' && row) openRow(row, false);
            else if (e.key === 'Delete' && row && deletable(row) && view?.token.loggedIn) openRow(row, true);
            else return;
            e.preventDefault();
          }}
        >
          <div role="rowgroup" className="thead">
            <div role="row" className="tr head" aria-rowindex={1}>
              {columns.map((c) => (
                <div key={c.key} role="columnheader" className={`td col-${c.key}`} aria-sort={sort.key === c.key ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
                  <button type="button" className="link" onClick={() => sortBy(c.key)} title={`Sort by ${c.title.toLocaleLowerCase()}`}>
                    {c.title}
                    <span aria-hidden="true">{sort.key === c.key ? (sort.descending ? ' ▼' : ' ▲') : ''}</span>
                  </button>
                </div>
              ))}
              <div role="columnheader" className="td col-state">
                State
              </div>
              <div role="columnheader" className="td col-protection">
                Protection
              </div>
              <div role="columnheader" className="td col-usage">
                Usage
              </div>
            </div>
          </div>
          <div ref={scroller} className="tbody" role="rowgroup">
            <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
              {items.map((item) => {
                const o = visible[item.index] as ObjectSummary;
                return (
                  <ObjectRow
                    key={o.ref}
                    o={o}
                    index={item.index}
                    active={item.index === active}
                    binned={invalidated.has(o.id) && keyClasses.includes(o.class)}
                    usageShown={usageShown(o)}
                    start={item.start}
                    measure={virtualizer.measureElement}
                    onOpen={() => {
                      setActive(item.index);
                      openRow(o, false);
                    }}
                  />
                );
              })}
            </div>
          </div>
        </div>
        <Details asking={asking} setAsking={setAsking} onClose={closeDetails} />
      </div>
    </div>
  );
}

const tabs: { id: KeysTab; title: string }[] = [
  { id: 'objects', title: 'Objects' },
  { id: 'bin', title: 'Trash bin' },
];

function Tabs(): React.JSX.Element {
  const { tab, show, keys } = useTrashBin();
  const refs = useRef<Record<KeysTab, HTMLButtonElement | null>>({ objects: null, bin: null });
  const go = (to: KeysTab): void => {
    show(to);
    refs.current[to]?.focus();
  };
  return (
    <div role="tablist" aria-label="Keys" className="tabs">
      {tabs.map((t) => (
        <button
          key={t.id}
          ref={(el) => {
            refs.current[t.id] = el;
          }}
          type="button"
          role="tab"
          id={`keys-tab-${t.id}`}
          aria-selected={tab === t.id}
          aria-controls={`keys-panel-${t.id}`}
          tabIndex={tab === t.id ? 0 : -1}
          onClick={() => show(t.id)}
          onKeyDown={(e) => {
            if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
              e.preventDefault();
              go(t.id === 'objects' ? 'bin' : 'objects');
            }
          }}
        >
          {t.id === 'bin' && keys.length > 0 ? `${t.title} (${keys.length})` : t.title}
        </button>
      ))}
    </div>
  );
}

export function KeyInventory(): React.JSX.Element {
  const load = useInventory((s) => s.load);
  const { tab, load: loadBin } = useTrashBin();
  const loadPolicy = usePolicy((s) => s.load);
  const { ceremony, error: ceremonyError } = useQuorum();
  // Read again when the partition or its login changes, and when a key ceremony ends (its report stays on screen).
  const view = usePartition((s) => s.view);
  useReloadWhenIdle(load, loadBin, loadPolicy);

  const here = ceremony && ceremonyKinds[ceremony.kind].section === 'keys';
  return (
    <section aria-labelledby="keys-title" className="inventory">
      <h1 id="keys-title">Keys and objects</h1>
      {!view ? <p>Choose a partition first (Partition).</p> : null}
      {view && !view.token.loggedIn ? <p className="muted">Only public objects are listed. Log in as crypto officer to see private keys and to delete keys.</p> : null}
      {ceremonyError && !ceremony ? <ErrorMessage error={ceremonyError} /> : null}
      {here ? (
        <CeremonyPanel view={ceremony} />
      ) : view ? (
        <>
          <Tabs />
          <div role="tabpanel" id={`keys-panel-${tab}`} aria-labelledby={`keys-tab-${tab}`}>
            {tab === 'objects' ? <Objects /> : <TrashBin />}
          </div>
        </>
      ) : null}
    </section>
  );
}
