// Cards: live readers, the partition's card set, and the card ceremonies (adopt, SO login, check a
// card, change a card PIN). Card insertions and removals arrive from the main process; nothing polls.
import { useEffect } from 'react';
import type { ReaderCondition } from '../../shared/types';
import { ErrorMessage } from '../components/ErrorMessage';
import { formatDateTime } from '../format';
import { HoldersForm } from '../components/HoldersForm';
import { ceremonyKinds, loginProblem } from '../../shared/ceremonies';
import { sectionTitles } from '../stores/navigation';
import { usePartition } from '../stores/partition';
import { soLoginHold, useQuorum } from '../stores/quorum';
import { useReaders } from '../stores/readers';
import { CeremonyPanel } from './CeremonyPanel';

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

function AdoptForm(): React.JSX.Element {
  const start = useQuorum((s) => s.start);
  const so = useQuorum((s) => s.so);
  const view = usePartition((s) => s.view);
  // Checked before anything is typed: adoption logs in as SO, and the partition allows one login at a time.
  const unavailable = loginProblem('adopt', { cryptoOfficer: view?.token.loggedIn ?? false, securityOfficer: so?.active ?? false });
  return (
    <HoldersForm
      id="adopt"
      title="Adopt this partition"
      intro="The terminal replaces the partition's SO PIN by a random credential that nobody knows, split onto the officers' cards. You will type the current SO PIN once; then each holder inserts a blank card and chooses its PIN."
      thresholdLabel="Cards needed to log in"
      submitLabel="Start the adoption"
      unavailable={unavailable}
      onSubmit={(holders, threshold) => void start({ kind: 'adopt', holders, threshold })}
    />
  );
}

function CardSet(): React.JSX.Element | null {
  const { cardSet, start, so } = useQuorum();
  const view = usePartition((s) => s.view);
  if (!cardSet) return null;
  const loginBlocked = soLoginHold(cardSet) ?? loginProblem('so-login', { cryptoOfficer: view?.token.loggedIn ?? false, securityOfficer: so?.active ?? false });
  return (
    <section className="panel" aria-labelledby="set-title">
      <h2 id="set-title">Card set of “{cardSet.partition.label}”</h2>
      {cardSet.source === 'partition' ? (
        <p>This terminal has no record of the set yet: the partition names it. The holders appear after the first SO login with the cards.</p>
      ) : (
        <p>
          Any {cardSet.m} of {cardSet.n} cards log in as security officer. Generation {cardSet.generation}, set {cardSet.set}.
        </p>
      )}
      {cardSet.cards.length > 0 ? (
        <table className="plain" aria-label="Cards of the set">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Holder</th>
              <th scope="col">Card serial</th>
              <th scope="col">Last used</th>
            </tr>
          </thead>
          <tbody>
            {cardSet.cards.map((c) => (
              <tr key={c.index}>
                <td>{c.index}</td>
                <td>{c.holder}</td>
                <td className="mono">{c.card ?? 'not seen by this terminal'}</td>
                <td className="nowrap">{c.lastUsed ? formatDateTime(c.lastUsed) : 'never'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {loginBlocked ? (
        <p className="notice notice-warning" role="note">
          {loginBlocked}
        </p>
      ) : null}
      <div className="row">
        <button type="button" disabled={loginBlocked !== null} onClick={() => void start({ kind: 'so-login' })}>
          Log in as SO with cards
        </button>
        {cardSet.refusedLogins > 0 ? (
          <button type="button" onClick={() => void start({ kind: 'so-acknowledge' })}>
            Acknowledge the refused SO login
          </button>
        ) : null}
        <button type="button" onClick={() => void start({ kind: 'check-card' })}>
          Check a card
        </button>
        <button type="button" onClick={() => void start({ kind: 'change-pin' })}>
          Change a card PIN
        </button>
      </div>
    </section>
  );
}

/** Before adoption a card can still be checked (blank, another partition's, an interrupted enrolment). */
function CheckOnly(): React.JSX.Element {
  const start = useQuorum((s) => s.start);
  return (
    <div className="row">
      <button type="button" onClick={() => void start({ kind: 'check-card' })}>
        Check a card
      </button>
    </div>
  );
}

export function CardsPanel(): React.JSX.Element {
  const { cardSet, ceremony, error, load } = useQuorum();
  const view = usePartition((s) => s.view);
  const partitionKey = view ? view.token.serial : null;
  useEffect(() => {
    if (partitionKey) void load();
  }, [partitionKey, load]);
  return (
    <section aria-labelledby="cards-title">
      <h1 id="cards-title">Cards and readers</h1>
      <ReadersPanel />
      {error && !ceremony ? <ErrorMessage error={error} /> : null}
      {!view ? <p>Choose a partition first (Partition).</p> : null}
      {ceremony && ceremonyKinds[ceremony.kind].section === 'cards' ? <CeremonyPanel view={ceremony} /> : view ? cardSet ? <CardSet /> : <><AdoptForm /><CheckOnly /></> : null}
      {ceremony && ceremonyKinds[ceremony.kind].section !== 'cards' && !['done', 'failed', 'cancelled'].includes(ceremony.prompt.kind) ? (
        <p className="notice notice-warning" role="note">
          A ceremony is under way in {sectionTitles[ceremonyKinds[ceremony.kind].section]}: {ceremony.title}.
        </p>
      ) : null}
    </section>
  );
}
