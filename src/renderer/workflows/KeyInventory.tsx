// Keys: the partition's objects, sortable and filterable, virtualised so that 10,000 rows scroll
// smoothly; Enter or a click opens one object's full attribute set. Keyboard: arrows move, Enter
// opens, Escape closes the details.
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, useState } from 'react';
import type { ObjectClassName, ObjectSummary } from '../../shared/types';
import { ErrorMessage } from '../components/ErrorMessage';
import type { SortKey } from '../inventory-filter';
import { useInventory } from '../stores/inventory';
import { usePartition } from '../stores/partition';

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

function protection(o: ObjectSummary): string {
  const parts: string[] = [];
  if (o.extractable === false) parts.push('not extractable');
  if (o.extractable === true) parts.push('extractable');
  if (o.sensitive === true) parts.push('sensitive');
  if (o.private === true) parts.push('private');
  return parts.join(', ');
}

function Details(): React.JSX.Element | null {
  const { details, detailsError, close } = useInventory();
  if (!details && !detailsError) return null;
  return (
    <aside className="details panel" aria-labelledby="details-title">
      <div className="row">
        <h2 id="details-title" className="grow">
          {details ? details.summary.label || '(no label)' : 'Object'}
        </h2>
        <button type="button" onClick={close}>
          Close
        </button>
      </div>
      {detailsError ? <ErrorMessage error={detailsError} /> : null}
      {details ? (
        <>
          <p className="wrap muted">{details.summary.uri}</p>
          {details.sameUri > 0 ? <p role="note">{details.sameUri} other object(s) share this address; the first is shown.</p> : null}
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
          {details.withheld.length > 0 ? (
            <>
              <h3>Not shown</h3>
              <ul>
                {details.withheld.map((w) => (
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

export function KeyInventory(): React.JSX.Element {
  const { visible, objects, loading, loaded, error, filter, sort, load, setFilter, sortBy, open, close } = useInventory();
  const view = usePartition((s) => s.view);
  const scroller = useRef<HTMLDivElement>(null);
  const [active, setActive] = useState(0);
  const virtualizer = useVirtualizer({ count: visible.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 12 });

  const partitionKey = view ? `${view.token.serial}:${view.token.loggedIn}` : null;
  useEffect(() => {
    if (partitionKey) void load();
  }, [partitionKey, load]);

  const move = (index: number): void => {
    const next = Math.max(0, Math.min(visible.length - 1, index));
    setActive(next);
    virtualizer.scrollToIndex(next);
  };

  return (
    <section aria-labelledby="keys-title" className="inventory">
      <div className="row">
        <h1 id="keys-title" className="grow">
          Keys and objects
        </h1>
        <button type="button" onClick={() => void load()} disabled={loading || !view}>
          Refresh
        </button>
      </div>
      {!view ? <p>Choose a partition first (Partition).</p> : null}
      {view && !view.token.loggedIn ? <p className="muted">Only public objects are listed. Log in as crypto officer to see private keys.</p> : null}
      {error ? <ErrorMessage error={error} /> : null}
      <div className="row">
        <label htmlFor="key-filter">Filter</label>
        <input id="key-filter" type="search" className="grow" value={filter.text} onChange={(e) => setFilter({ text: e.target.value })} placeholder="label, id, type, usage…" />
        <label htmlFor="key-class">Class</label>
        <select id="key-class" value={filter.objectClass} onChange={(e) => setFilter({ objectClass: e.target.value as ObjectClassName | 'all' })}>
          {Object.entries(classLabels).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <p role="status" className="muted">
        {loading ? 'Reading the partition…' : loaded ? `${visible.length} of ${objects.length} objects shown` : ''}
      </p>
      <div className="split">
        <div
          className="table"
          role="table"
          aria-label="Objects in the partition"
          aria-rowcount={visible.length + 1}
          tabIndex={0}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown') move(active + 1);
            else if (e.key === 'ArrowUp') move(active - 1);
            else if (e.key === 'Home') move(0);
            else if (e.key === 'End') move(visible.length - 1);
            else if (e.key === 'PageDown') move(active + 10);
            else if (e.key === 'PageUp') move(active - 10);
            else if (e.key === 'Enter' && visible[active]) void open(visible[active].uri);
            else if (e.key === 'Escape') close();
            else return;
            e.preventDefault();
          }}
        >
          <div role="rowgroup">
            <div role="row" className="tr head" aria-rowindex={1}>
              {columns.map((c) => (
                <div key={c.key} role="columnheader" className={`td col-${c.key}`} aria-sort={sort.key === c.key ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
                  <button type="button" className="link" onClick={() => sortBy(c.key)}>
                    {c.title}
                    {sort.key === c.key ? (sort.descending ? ' ▼' : ' ▲') : ''}
                  </button>
                </div>
              ))}
              <div role="columnheader" className="td col-protection">
                Protection
              </div>
            </div>
          </div>
          <div ref={scroller} className="tbody" role="rowgroup">
            <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
              {virtualizer.getVirtualItems().map((item) => {
                const o = visible[item.index] as ObjectSummary;
                return (
                  <div
                    key={o.uri + item.index}
                    role="row"
                    aria-rowindex={item.index + 2}
                    aria-selected={item.index === active}
                    className={`tr${item.index === active ? ' active' : ''}`}
                    style={{ position: 'absolute', top: 0, left: 0, right: 0, height: ROW_HEIGHT, transform: `translateY(${item.start}px)` }}
                    onClick={() => {
                      setActive(item.index);
                      void open(o.uri);
                    }}
                  >
                    <div role="cell" className="td col-label" title={o.label}>
                      {o.label || '(no label)'}
                    </div>
                    <div role="cell" className="td col-class">
                      {o.class.replace('-', ' ')}
                    </div>
                    <div role="cell" className="td col-keyType">
                      {o.keyType ?? ''}
                    </div>
                    <div role="cell" className="td col-size">
                      {o.size ?? ''}
                    </div>
                    <div role="cell" className="td col-id">
                      {o.id}
                    </div>
                    <div role="cell" className="td col-protection">
                      {protection(o)}
                    </div>
                  </div>
                );
              })}
            </div>
          </div>
        </div>
        <Details />
      </div>
    </section>
  );
}
