// Cards: the live readers-and-cards panel. Updates come from the main process as cards are
// inserted and removed; nothing here polls.
import type { ReaderCondition } from '../../shared/types';
import { useReaders } from '../stores/readers';

const conditionWords: Record<ReaderCondition, string> = {
  empty: 'No card',
  'card-present': 'Card inserted',
  'card-in-use': 'Card in use',
  'card-mute': 'Card does not answer',
  unavailable: 'Reader unavailable',
};

export function ReadersPanel(): React.JSX.Element {
  const snapshot = useReaders((s) => s.snapshot);
  if (!snapshot) return <p role="status">Looking for card readers…</p>;
  if (snapshot.service !== 'running') {
    return (
      <div className="error" role="alert">
        {snapshot.message}
      </div>
    );
  }
  if (snapshot.readers.length === 0) return <p role="status">No card reader is connected. Plug one in.</p>;
  return (
    <ul className="readers" aria-label="Card readers">
      {snapshot.readers.map((r) => (
        <li key={r.name} className={`reader reader-${r.condition}`} aria-label={`${r.name}: ${conditionWords[r.condition]}`}>
          <span className="reader-name">{r.name}</span>
          <span className="reader-state">{conditionWords[r.condition]}</span>
          {r.atr ? <code className="muted">ATR {r.atr}</code> : null}
        </li>
      ))}
    </ul>
  );
}

export function CardsPanel(): React.JSX.Element {
  return (
    <section aria-labelledby="cards-title">
      <h1 id="cards-title">Cards and readers</h1>
      <ReadersPanel />
      <p className="muted">Officer card sets (enrolment, checking a card, changing a card PIN) are not available yet in this version.</p>
    </section>
  );
}
