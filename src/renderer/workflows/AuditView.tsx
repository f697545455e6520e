// Audit: the tamper-evident record, newest first, with the result of verifying the whole chain, and
// the export of the log to a USB stick for an auditor (checked offline: docs/audit-export.md). Entries
// are shown in officers' words (shared/audit-words.ts) with the codes under their details, and can be
// filtered by officer, action, outcome and period, and searched (audit-filter.ts).
import { useEffect, useMemo, useState } from 'react';
import { actionInWords, auditOutcomes, detailsInWords, outcomeInWords } from '../../shared/audit-words';
import type { AuditEntryView, AuditOutcome } from '../../shared/types';
import { type AuditFilter, filterAudit, filterChoices, filtering, noFilter } from '../audit-filter';
import { ErrorMessage } from '../components/ErrorMessage';
import { formatCount } from '../format';
import { useAudit } from '../stores/audit';
import { usePartition } from '../stores/partition';

type Period = 'all' | 'last-export' | 'dates';

/** The export form: which stick, which period; the result says what the seals cover. */
function ExportPanel(): React.JSX.Element {
  const { media, exported, exportError, exporting, loadMedia, exportTo } = useAudit();
  const loggedIn = usePartition((s) => s.view?.token.loggedIn ?? false);
  const [chosen, setChosen] = useState<string>('');
  const [period, setPeriod] = useState<Period>('last-export');
  const [from, setFrom] = useState('');
  const [until, setUntil] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    void loadMedia();
  }, [loadMedia]);
  const target = media.find((m) => m.path === chosen) ?? (media.length === 1 ? media[0] : undefined);
  return (
    <section className="panel" aria-labelledby="export-title">
      <h2 id="export-title">Export the log for an auditor</h2>
      <p className="muted">
        Every entry with both chains, the heads sealed by the partition and its audit key, written to the stick and read back. An auditor checks it on any machine: <span className="mono">tessera audit verify-export FILE</span>, or with openssl and jq alone.
        {loggedIn ? ' The crypto officer is logged in: the partition seals the log\'s head first, so every entry is vouched for.' : ' Log in as crypto officer first to have the partition seal the newest entries.'}
      </p>
      <form
        className="stack"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (!target) {
            setProblem(media.length === 0 ? 'No USB stick is inserted. Insert one, then look again.' : 'Choose the USB stick first.');
            return;
          }
          if (period === 'dates' && from === '') {
            setProblem('Give the first day of the period.');
            return;
          }
          if (period === 'dates' && until !== '' && until < from) {
            setProblem('The period ends before it begins.');
            return;
          }
          setProblem(null);
          void exportTo(target.path, period === 'all' ? null : period === 'last-export' ? 'last-export' : from, period === 'dates' && until !== '' ? until : null);
        }}
      >
        <fieldset>
          <legend>USB stick</legend>
          {media.length === 0 ? <p>No USB stick is inserted.</p> : null}
          {media.map((m) => (
            <label key={m.path} className="choice">
              <input type="radio" name="export-media" value={m.path} checked={target?.path === m.path} onChange={() => setChosen(m.path)} /> {m.label} <span className="muted">({m.path})</span>
            </label>
          ))}
          <button type="button" onClick={() => void loadMedia()}>
            Look again
          </button>
        </fieldset>
        <fieldset>
          <legend>Entries</legend>
          <label className="choice">
            <input type="radio" name="export-period" checked={period === 'last-export'} onChange={() => setPeriod('last-export')} /> Everything since the last export
          </label>
          <label className="choice">
            <input type="radio" name="export-period" checked={period === 'all'} onChange={() => setPeriod('all')} /> The whole log
          </label>
          <label className="choice">
            <input type="radio" name="export-period" checked={period === 'dates'} onChange={() => setPeriod('dates')} /> A period (days in UTC)
          </label>
          {period === 'dates' ? (
            <div className="row">
              <label htmlFor="export-from">From</label>
              <input id="export-from" type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
              <label htmlFor="export-until">to (included)</label>
              <input id="export-until" type="date" value={until} onChange={(e) => setUntil(e.target.value)} />
            </div>
          ) : null}
        </fieldset>
        {problem ? (
          <p className="field-error" role="alert">
            {problem}
          </p>
        ) : null}
        {exportError ? <ErrorMessage error={exportError} /> : null}
        <button type="submit" className="primary" disabled={exporting}>
          {exporting ? 'Exporting…' : target ? `Export to ${target.label}` : 'Export'}
        </button>
      </form>
      {exported ? (
        <div className="ok" role="status" aria-label="Export written">
          <p>
            Entries {exported.from} to {exported.through} ({exported.entries}) written to <span className="mono">{exported.path}</span>, read back and verified; recorded in entry {exported.recordedIn}.
          </p>
          <p>
            SHA-256 <span className="mono">{exported.sha256}</span>
          </p>
          <p>{exported.unsealed ? `Entries ${exported.unsealed.from} to ${exported.unsealed.through} are not sealed by the partition yet: nobody an auditor can check vouches for them until a crypto-officer session seals the log.` : 'Every entry is covered by a seal of the partition.'}</p>
        </div>
      ) : null}
    </section>
  );
}

/** An entry's time in the officer's locale, with the time zone. */
function localTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });
}

const outcomeMark: Record<AuditOutcome, string> = { ok: '✓', failed: '✗', refused: '⊘' };

/** The filters (officer, action, outcome, period) and the search; Escape clears the search, then every filter. */
function AuditFilters({ entries, filter, onChange, resultsId }: { entries: AuditEntryView[]; filter: AuditFilter; onChange(filter: AuditFilter): void; resultsId: string }): React.JSX.Element {
  const choices = useMemo(() => filterChoices(entries), [entries]);
  const set = (patch: Partial<AuditFilter>): void => onChange({ ...filter, ...patch });
  return (
    <form
      role="search"
      aria-label="Filter the audit entries"
      className="audit-filters"
      onSubmit={(e) => {
        e.preventDefault();
        document.getElementById(resultsId)?.focus();
      }}
      onKeyDown={(e) => {
        if (e.key !== 'Escape') return;
        e.preventDefault();
        onChange(filter.text !== '' ? { ...filter, text: '' } : noFilter);
      }}
    >
      <div className="audit-filter audit-filter-search">
        <label htmlFor="audit-filter-text">Search</label>
        <input id="audit-filter-text" type="search" value={filter.text} onChange={(e) => set({ text: e.target.value })} placeholder="Words, names, card serials, codes" aria-describedby="audit-filter-hint" />
      </div>
      <div className="audit-filter">
        <label htmlFor="audit-filter-officer">Officer</label>
        <select id="audit-filter-officer" value={filter.officer} onChange={(e) => set({ officer: e.target.value })}>
          <option value="">All officers</option>
          {choices.officers.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      </div>
      <div className="audit-filter">
        <label htmlFor="audit-filter-action">Action</label>
        <select id="audit-filter-action" value={filter.action} onChange={(e) => set({ action: e.target.value })}>
          <option value="">All actions</option>
          {choices.actions.map((a) => (
            <option key={a.code} value={a.code}>
              {a.words}
            </option>
          ))}
        </select>
      </div>
      <div className="audit-filter">
        <label htmlFor="audit-filter-outcome">Outcome</label>
        <select id="audit-filter-outcome" value={filter.outcome} onChange={(e) => set({ outcome: e.target.value as AuditFilter['outcome'] })}>
          <option value="">All outcomes</option>
          {auditOutcomes.map((o) => (
            <option key={o.code} value={o.code}>
              {o.words}
            </option>
          ))}
        </select>
      </div>
      <div className="audit-filter">
        <label htmlFor="audit-filter-from">From</label>
        <input id="audit-filter-from" type="date" value={filter.from} onChange={(e) => set({ from: e.target.value })} />
      </div>
      <div className="audit-filter">
        <label htmlFor="audit-filter-until">Until (included)</label>
        <input id="audit-filter-until" type="date" value={filter.until} onChange={(e) => set({ until: e.target.value })} />
      </div>
      <button type="button" onClick={() => onChange(noFilter)} disabled={!filtering(filter)}>
        Clear the filters
      </button>
      <p id="audit-filter-hint" className="muted audit-filter-hint">
        Enter goes to the entries; Escape clears the search, then every filter.
      </p>
    </form>
  );
}

/** One entry: outcome and action in words (the codes under the details), who (officers and their cards, the terminal's user beside them). */
function AuditRowView({ entry, flagged }: { entry: AuditEntryView; flagged: boolean }): React.JSX.Element {
  const outcome = outcomeInWords(entry);
  return (
    <tr className={flagged ? 'flagged' : undefined}>
      <td data-label="#">{entry.seq}</td>
      <td data-label="Time">
        <time dateTime={entry.time} title={entry.time}>
          {localTime(entry.time)}
        </time>
      </td>
      <td data-label="Outcome" className={`outcome-${entry.outcome}`}>
        <span aria-hidden="true">{outcomeMark[entry.outcome]} </span>
        {outcome}
      </td>
      <td data-label="Action">{actionInWords(entry.action)}</td>
      <td data-label="Target">{entry.target}</td>
      <td data-label="Who">
        {entry.officers.length > 0 ? (
          <ul className="audit-who" aria-label="Officers">
            {entry.officers.map((o) => (
              <li key={o.holder}>
                {o.holder}
                {o.card ? (
                  <>
                    {' '}
                    <span className="muted">card</span> <span className="mono">{o.card}</span>
                  </>
                ) : null}
              </li>
            ))}
          </ul>
        ) : null}
        <span className="muted">{entry.officers.length > 0 ? `at ${entry.actor}` : entry.actor}</span>
      </td>
      <td data-label="Details">
        <ul className="audit-details">
          {detailsInWords(entry).map((line, i) => (
            <li key={i} className={line.code ? 'muted' : undefined}>
              {line.name}: <span className={line.code ? 'mono' : undefined}>{line.value}</span>
            </li>
          ))}
        </ul>
      </td>
    </tr>
  );
}

export function AuditView(): React.JSX.Element {
  const { entries, more, verification, error, load, loadOlder, verify } = useAudit();
  const [filter, setFilter] = useState<AuditFilter>(noFilter);
  const shown = useMemo(() => filterAudit(entries, filter), [entries, filter]);
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <section aria-labelledby="audit-title">
      <div className="row">
        <h1 id="audit-title" className="grow">
          Audit log
        </h1>
        <button type="button" onClick={() => void verify()}>
          Verify now
        </button>
      </div>
      {error ? <ErrorMessage error={error} /> : null}
      <ExportPanel />
      {verification ? (
        verification.intact ? (
          <p className="ok" role="status">
            {verification.entries === 1 ? 'Log intact: its one entry verified.' : `Log intact: all ${formatCount(verification.entries)} entries verified.`}
          </p>
        ) : (
          <div className="error" role="alert">
            <strong>Tampering detected:</strong> {verification.problem?.message}
          </div>
        )
      ) : null}
      <AuditFilters entries={entries} filter={filter} onChange={setFilter} resultsId="audit-entries" />
      <p role="status" className="muted">
        {filtering(filter) ? `${formatCount(shown.length)} of ${formatCount(entries.length)} entries shown${more ? ' (of those loaded; older entries are not searched until shown)' : ''}.` : `${formatCount(entries.length)} ${entries.length === 1 ? 'entry' : 'entries'}${more ? ' (newest first; older ones below)' : ''}.`}
      </p>
      <div className="audit-scroll" id="audit-entries" tabIndex={-1} role="region" aria-label="Audit entries, scrollable">
        <table className="plain audit" aria-label="Audit entries">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Time</th>
              <th scope="col">Outcome</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Who</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((e) => (
              <AuditRowView key={e.seq} entry={e} flagged={verification?.problem?.seq === e.seq} />
            ))}
          </tbody>
        </table>
        {entries.length === 0 ? <p className="muted">No entries yet.</p> : null}
        {entries.length > 0 && shown.length === 0 ? (
          <p className="empty-message" role="status">
            No entry matches these filters.{' '}
            <button type="button" onClick={() => setFilter(noFilter)}>
              Clear the filters
            </button>
          </p>
        ) : null}
      </div>
      {more ? (
        <button type="button" onClick={() => void loadOlder()}>
          Show older entries
        </button>
      ) : null}
    </section>
  );
}
