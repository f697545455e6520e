// Credentials: the ceremonies that change who can do what on the partition: the crypto officer's
// PIN, the SO credential, a lost card, the backup key set's split, and a roll call of a set. Each
// says before it starts who must be present, how many blank cards it needs and what stops working
// afterwards; a start is disabled, with the reason, when the logins or the partition's card sets do
// not allow it. Starts go through the same ceremony:start as every ceremony; the one under way is
// shown by CeremonyPanel.
import { useState } from 'react';
import { type CeremonyKind, ceremonyKinds, loginProblem } from '../../shared/ceremonies';
import type { BackupSetView, CardSetView } from '../../shared/types';
import { ErrorMessage } from '../components/ErrorMessage';
import { HoldersForm } from '../components/HoldersForm';
import { useBackup } from '../stores/backup';
import { sectionTitles } from '../stores/navigation';
import { usePartition } from '../stores/partition';
import { soLoginHold, useQuorum } from '../stores/quorum';
import { useReloadWhenIdle } from '../stores/reload';
import { CeremonyPanel } from './CeremonyPanel';

type SetChoice = 'so' | 'backup';

interface Briefing {
  who: string;
  blank: string;
  stops: string;
}

function BriefingList({ briefing }: { briefing: Briefing }): React.JSX.Element {
  return (
    <dl className="briefing">
      <dt>Who must be present</dt>
      <dd>{briefing.who}</dd>
      <dt>Blank cards</dt>
      <dd>{briefing.blank}</dd>
      <dt>What stops working</dt>
      <dd>{briefing.stops}</dd>
    </dl>
  );
}

/** A set's holders and m as the GUI knows them (the SO set from the terminal's record, the backup set from the partition). */
interface SetFacts {
  m: number;
  n: number;
  holders: string[];
}

function soFacts(cardSet: CardSetView | null): SetFacts | null {
  if (!cardSet) return null;
  return { m: cardSet.m, n: cardSet.n, holders: cardSet.cards.map((c) => c.holder) };
}

function backupFacts(backupSet: BackupSetView | null): SetFacts | null {
  return backupSet ? { m: backupSet.m, n: backupSet.n, holders: backupSet.holders } : null;
}

const setNames: Record<SetChoice, string> = { so: 'SO card set', backup: 'backup key set' };

/** "Any 2 of the 3 SO card set holders (alice, bob, carol), each with their own card and its PIN", in words. */
function quorumWho(facts: SetFacts, set: SetChoice, without?: string): string {
  if (facts.holders.length === 0) return `Enough holders of the ${setNames[set]} to make a quorum, each with their card and its PIN (this terminal learns their names at the first SO login).`;
  const others = facts.holders.filter((h) => h !== without);
  const howMany = facts.m === facts.n ? `All ${facts.n} holders` : `Any ${facts.m} of the ${facts.n} holders`;
  return `${howMany} of the ${setNames[set]} (${others.join(', ')}${without ? `; not ${without}'s lost card` : ''}), each with their own card and its PIN.`;
}

/** Why a start cannot happen now, in officers' words: no such set, a refused SO login waiting, or the logins. */
function useStartProblem(kind: CeremonyKind, set: SetChoice | null): string | null {
  const cardSet = useQuorum((s) => s.cardSet);
  const so = useQuorum((s) => s.so?.active ?? false);
  const backupSet = useBackup((s) => s.set);
  const loggedIn = usePartition((s) => s.view?.token.loggedIn ?? false);
  if (set === 'so' && !cardSet) return 'This partition has no SO card set yet. Adopt it first (Cards).';
  if (set === 'backup' && !backupSet) return 'This partition has no backup key set yet. Create it first (Backup).';
  const hold = kind === 'co-pin-reset' || kind === 'so-rotate' || kind === 'so-replace-card' ? soLoginHold(cardSet) : null;
  if (hold) return `${hold} Acknowledge it in Cards first.`;
  return loginProblem(kind, { cryptoOfficer: loggedIn, securityOfficer: so });
}

function Unavailable({ problem }: { problem: string | null }): React.JSX.Element | null {
  return problem ? (
    <p className="notice notice-warning" role="note">
      {problem}
    </p>
  ) : null;
}

function CoPinReset(): React.JSX.Element {
  const start = useQuorum((s) => s.start);
  const facts = soFacts(useQuorum((s) => s.cardSet));
  const problem = useStartProblem('co-pin-reset', 'so');
  return (
    <section className="panel" aria-labelledby="co-pin-title">
      <h2 id="co-pin-title">Reset the crypto officer's PIN</h2>
      <p>The SO, logged in by a quorum of cards, gives the crypto officer a new PIN, typed twice here within the partition's own limits: after a lockout, or when the PIN may be known to someone who should not know it.</p>
      <BriefingList
        briefing={{
          who: facts ? quorumWho(facts, 'so') : 'A quorum of the SO card set.',
          blank: 'None.',
          stops: "The crypto officer's current PIN, at once. Every application that logs in as crypto officer must be given the new PIN.",
        }}
      />
      <Unavailable problem={problem} />
      <button type="button" disabled={problem !== null} onClick={() => void start({ kind: 'co-pin-reset' })}>
        Reset the crypto officer's PIN
      </button>
    </section>
  );
}

function SoRotate(): React.JSX.Element {
  const start = useQuorum((s) => s.start);
  const facts = soFacts(useQuorum((s) => s.cardSet));
  const problem = useStartProblem('so-rotate', 'so');
  return (
    <HoldersForm
      id="so-rotate"
      title="Rotate the SO credential"
      intro={
        <>
          <p>A new random SO credential, split onto the holders' cards as a new generation; the partition's SO PIN is changed to it. The holders and the number of cards needed may change at the same time.</p>
          <BriefingList
            briefing={{
              who: `${facts ? quorumWho(facts, 'so') : 'A quorum of the SO card set.'} Then every holder of the new set, with their card.`,
              blank: 'One for each holder new to the set. The other holders keep their card and its PIN; their card is rewritten.',
              stops: 'The current SO credential, and the current generation on every card: a card that was not rewritten no longer logs in.',
            }}
          />
        </>
      }
      thresholdLabel="Cards needed to log in"
      submitLabel="Rotate the SO credential"
      unavailable={problem}
      {...(facts && facts.holders.length > 0 ? { initial: { holders: facts.holders, threshold: facts.m } } : {})}
      onSubmit={(holders, threshold) => void start({ kind: 'so-rotate', holders, threshold })}
    />
  );
}

/** Which set a ceremony works on (the SO set first), and what the GUI knows of it. */
function useSetChoice(): { set: SetChoice; choose(set: SetChoice): void; facts: SetFacts | null } {
  const so = soFacts(useQuorum((s) => s.cardSet));
  const backup = backupFacts(useBackup((s) => s.set));
  const [set, choose] = useState<SetChoice>('so');
  return { set, choose, facts: set === 'so' ? so : backup };
}

function SetChooser({ id, set, onChange }: { id: string; set: SetChoice; onChange(set: SetChoice): void }): React.JSX.Element {
  return (
    <fieldset className="row">
      <legend>Which set</legend>
      {(['so', 'backup'] as const).map((s) => (
        <label key={s}>
          <input type="radio" name={`${id}-set`} checked={set === s} onChange={() => onChange(s)} /> The {setNames[s]}
        </label>
      ))}
    </fieldset>
  );
}

function ReplaceCard(): React.JSX.Element {
  const start = useQuorum((s) => s.start);
  const { set, choose, facts } = useSetChoice();
  const [holder, setHolder] = useState('');
  const kind = set === 'so' ? 'so-replace-card' : 'backup-replace-card';
  const chosen = facts?.holders.includes(holder) ? holder : '';
  const problem = useStartProblem(kind, set) ?? (chosen ? null : 'Choose whose card is lost or compromised.');
  const who = chosen || 'the holder whose card is lost';
  return (
    <section className="panel" aria-labelledby="replace-title">
      <h2 id="replace-title">Replace a lost or compromised card</h2>
      <p>The set moves to a new generation without the lost card: the holder keeps their name; bring a blank card for them.</p>
      <SetChooser id="replace" set={set} onChange={choose} />
      <div className="row">
        <label htmlFor="replace-holder">Whose card</label>
        <select id="replace-holder" value={chosen} onChange={(e) => setHolder(e.target.value)} disabled={!facts || facts.holders.length === 0}>
          <option value="">Choose a holder</option>
          {(facts?.holders ?? []).map((h) => (
            <option key={h} value={h}>
              {h}
            </option>
          ))}
        </select>
      </div>
      <BriefingList
        briefing={{
          who: `${facts ? quorumWho(facts, set, chosen || undefined) : `A quorum of the ${setNames[set]}.`} Then every other holder with their card, and ${who} with a blank card.`,
          blank: `One, for ${who}.`,
          stops: `${chosen ? `${chosen}'s` : 'The'} old card, at once: it is refused before its PIN is asked. The current generation on every card is replaced.${set === 'backup' ? ' Backups made before are read with the new cards.' : ''}`,
        }}
      />
      <Unavailable problem={problem} />
      <button type="button" disabled={problem !== null} onClick={() => void start({ kind, holder: chosen })}>
        {chosen ? `Replace ${chosen}'s card` : 'Replace the card'}
      </button>
    </section>
  );
}

function RollCall(): React.JSX.Element {
  const start = useQuorum((s) => s.start);
  const { set, choose, facts } = useSetChoice();
  const problem = useStartProblem('roll-call', set);
  return (
    <section className="panel" aria-labelledby="roll-call-start-title">
      <h2 id="roll-call-start-title">Roll call</h2>
      <p>Every holder proves their card: its PIN, its sealed share and its generation. The report names who is missing and whose card is stale.</p>
      <SetChooser id="roll-call" set={set} onChange={choose} />
      <BriefingList
        briefing={{
          who: facts && facts.holders.length > 0 ? `Every holder of the ${setNames[set]} (${facts.holders.join(', ')}), each with their card and its PIN.` : `Every holder of the ${setNames[set]}, each with their card and its PIN.`,
          blank: 'None.',
          stops: 'Nothing: the cards are checked, not changed.',
        }}
      />
      <Unavailable problem={problem} />
      <button type="button" disabled={problem !== null} onClick={() => void start({ kind: 'roll-call', set })}>
        Start the roll call
      </button>
    </section>
  );
}

function BackupRotate(): React.JSX.Element {
  const start = useQuorum((s) => s.start);
  const facts = backupFacts(useBackup((s) => s.set));
  const problem = useStartProblem('backup-set-rotate', 'backup');
  const [newEscrowKey, setNewEscrowKey] = useState(false);
  return (
    <HoldersForm
      id="backup-set-rotate"
      title="Re-split the backup key set"
      intro={
        <>
          <p>The backup key set's escrow key, split again onto the holders' cards as a new generation: the holders and the number of cards needed may change. A full rotation replaces the escrow key too.</p>
          <BriefingList
            briefing={{
              who: `${facts ? quorumWho(facts, 'backup') : 'A quorum of the backup key set.'} Then every holder of the new split, with their card.`,
              blank: 'One for each holder new to the set. The other holders keep their card and its PIN; their card is rewritten.',
              stops: newEscrowKey
                ? "The current generation on every card. With a new escrow key, backups made before are read only with the old generation's cards: keep them until those backups are no longer needed."
                : 'The current generation on every card: a card that was not rewritten no longer reads backups. Backups made before are read with the new cards.',
            }}
          />
        </>
      }
      thresholdLabel="Cards needed to restore"
      submitLabel={newEscrowKey ? 'Rotate the backup key set' : 'Re-split the backup key set'}
      unavailable={problem}
      {...(facts ? { initial: { holders: facts.holders, threshold: facts.m } } : {})}
      onSubmit={(holders, threshold) => void start({ kind: 'backup-set-rotate', holders, threshold, newEscrowKey })}
    >
      <label className="row">
        <input type="checkbox" checked={newEscrowKey} disabled={problem !== null} onChange={(e) => setNewEscrowKey(e.target.checked)} /> New escrow key (full rotation)
      </label>
    </HoldersForm>
  );
}

/** The Credentials section: the ceremony under way in it, or one card per credential ceremony. */
export function CredentialsPanel(): React.JSX.Element {
  const { ceremony, error, load } = useQuorum();
  const loadBackupSet = useBackup((s) => s.loadSet);
  const view = usePartition((s) => s.view);
  const ended = useReloadWhenIdle(load, loadBackupSet);
  return (
    <section aria-labelledby="credentials-title">
      <h1 id="credentials-title">Credentials</h1>
      {!view ? <p>Choose a partition first (Partition).</p> : null}
      {error && !ceremony ? <ErrorMessage error={error} /> : null}
      {ceremony && ceremonyKinds[ceremony.kind].section === 'credentials' ? (
        <CeremonyPanel view={ceremony} />
      ) : view ? (
        <>
          <CoPinReset />
          <SoRotate />
          <ReplaceCard />
          <RollCall />
          <BackupRotate />
        </>
      ) : null}
      {ceremony && ceremonyKinds[ceremony.kind].section !== 'credentials' && !ended ? (
        <p className="notice notice-warning" role="note">
          A ceremony is under way in {sectionTitles[ceremonyKinds[ceremony.kind].section]}: {ceremony.title}.
        </p>
      ) : null}
    </section>
  );
}
