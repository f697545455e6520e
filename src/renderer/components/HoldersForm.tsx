// Naming a card set's holders and its threshold m (the SO set when adopting, the backup key set).
// What was typed is kept as a draft in the store: a refusal, or a visit to another section, loses
// nothing. Names are sent as typed: core refuses a blank or repeated name with a clear message, and
// m is never changed silently. `unavailable` says why the form cannot work now (and disables it).
// `initial` fills a form that has no draft yet (a set's current holders and m); `children` are
// further fields shown before the button.
import { type HoldersDraft, useQuorum } from '../stores/quorum';

interface Props {
  id: string;
  title: string;
  /** Words (a paragraph), or a briefing of its own. */
  intro: React.ReactNode;
  thresholdLabel: string;
  submitLabel: string;
  unavailable: string | null;
  initial?: HoldersDraft;
  children?: React.ReactNode;
  onSubmit(holders: string[], threshold: number): void;
}

const EMPTY = { holders: ['', '', ''], threshold: 2 };

export function HoldersForm({ id, title, intro, thresholdLabel, submitLabel, unavailable, initial, children, onSubmit }: Props): React.JSX.Element {
  const draft = useQuorum((s) => s.drafts[id]) ?? initial ?? EMPTY;
  const setDraft = useQuorum((s) => s.setDraft);
  const { holders, threshold } = draft;
  const setHolders = (next: string[]): void => setDraft(id, { holders: next, threshold: Math.min(threshold, Math.max(1, next.length)) });
  const named = holders.map((h) => h.trim());
  return (
    <form
      className="panel"
      aria-labelledby={`${id}-title`}
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit(named, threshold);
      }}
    >
      <h2 id={`${id}-title`}>{title}</h2>
      {typeof intro === 'string' ? <p>{intro}</p> : intro}
      {unavailable ? (
        <p className="notice notice-warning" role="note">
          {unavailable}
        </p>
      ) : null}
      <fieldset disabled={unavailable !== null}>
        <legend>Card holders ({holders.length})</legend>
        {holders.map((h, i) => (
          <div className="row" key={i}>
            <label htmlFor={`${id}-holder-${i}`}>Holder {i + 1}</label>
            <input id={`${id}-holder-${i}`} maxLength={64} value={h} onChange={(e) => setHolders(holders.map((x, j) => (j === i ? e.target.value : x)))} />
          </div>
        ))}
        <div className="row">
          <button type="button" onClick={() => setHolders([...holders, ''])} disabled={holders.length >= 16}>
            Add a holder
          </button>
          <button type="button" onClick={() => setHolders(holders.slice(0, -1))} disabled={holders.length <= 1}>
            Remove the last holder
          </button>
        </div>
      </fieldset>
      <div className="row">
        <label htmlFor={`${id}-threshold`}>{thresholdLabel}</label>
        <select id={`${id}-threshold`} value={threshold} disabled={unavailable !== null} onChange={(e) => setDraft(id, { holders, threshold: Number(e.target.value) })}>
          {holders.map((_, i) => (
            <option key={i} value={i + 1}>
              {i + 1} of {holders.length}
            </option>
          ))}
        </select>
      </div>
      {children}
      <button type="submit" disabled={unavailable !== null}>
        {submitLabel}
      </button>
    </form>
  );
}
