// Naming a card set's holders and its threshold m (the SO set when adopting, the backup key set).
// Names are sent as typed: core refuses a blank or repeated name with a clear message, and m is
// never changed silently.
import { useState } from 'react';

interface Props {
  id: string;
  title: string;
  intro: string;
  thresholdLabel: string;
  submitLabel: string;
  onSubmit(holders: string[], threshold: number): void;
}

export function HoldersForm({ id, title, intro, thresholdLabel, submitLabel, onSubmit }: Props): React.JSX.Element {
  const [holders, setHolders] = useState(['', '', '']);
  const [threshold, setThreshold] = useState(2);
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
      <p>{intro}</p>
      <fieldset>
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
          <button
            type="button"
            onClick={() => {
              setHolders(holders.slice(0, -1));
              setThreshold(Math.min(threshold, holders.length - 1));
            }}
            disabled={holders.length <= 1}
          >
            Remove the last holder
          </button>
        </div>
      </fieldset>
      <div className="row">
        <label htmlFor={`${id}-threshold`}>{thresholdLabel}</label>
        <select id={`${id}-threshold`} value={threshold} onChange={(e) => setThreshold(Number(e.target.value))}>
          {holders.map((_, i) => (
            <option key={i} value={i + 1}>
              {i + 1} of {holders.length}
            </option>
          ))}
        </select>
      </div>
      <button type="submit" disabled={named.every((h) => h === '')}>
        {submitLabel}
      </button>
    </form>
  );
}
