// What the card-set ceremonies leave behind, in officers' words: an enrolment record (adoption,
// backup key set, a new generation), the crypto officer's PIN reset and who approved it, a
// rotation (what is new, replaced, removed, not yet retired), and a roll call (who proved their card).
import { formatDateTime } from '../format';
import type { CeremonyResult, EnrolmentRecord, RollCallLine, RollCallReport, RotationReport } from '../../shared/types';

type Purpose = 'so' | 'backup';

const setWords: Record<Purpose, { set: string; does: string }> = {
  so: { set: 'SO card set', does: 'log in as security officer' },
  backup: { set: 'backup key set', does: 'read and restore its backups' },
};

/** The printable record of a card set's generation: partition, set, m of n, and each holder's card. */
export function EnrolmentRecordView({ record, purpose }: { record: EnrolmentRecord; purpose: Purpose }): React.JSX.Element {
  const w = setWords[purpose];
  return (
    <section aria-labelledby="record-title">
      <h3 id="record-title">Enrolment record</h3>
      <p>
        Partition “{record.partition.label}” (serial {record.partition.serial}), {w.set} {record.set}, generation {record.generation}: any {record.m} of these {record.n} cards {w.does}. Set created {formatDateTime(record.date)}.
      </p>
      {record.fingerprint ? (
        <p>
          Fingerprint <strong className="mono" aria-label="Set fingerprint">{record.fingerprint}</strong>: print this record and keep it in the safe. A partition that does not know this set restores its backups only after officers type this fingerprint from the record.
        </p>
      ) : null}
      <table className="plain" aria-label="Enrolled cards">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Holder</th>
            <th scope="col">Card serial</th>
          </tr>
        </thead>
        <tbody>
          {record.cards.map((c) => (
            <tr key={c.index}>
              <td>{c.index}</td>
              <td>{c.holder}</td>
              <td className="mono">{c.card}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** The crypto officer's PIN reset: which partition, who approved, and what the officers must do next. */
export function CoPinResult({ result }: { result: Extract<CeremonyResult, { kind: 'co-pin-reset' }> }): React.JSX.Element {
  return (
    <p role="status">
      The crypto officer's PIN of “{result.partition.label}” is reset, approved by the cards of {result.holders.join(', ')}. The old PIN no longer works: give the new one to every application that logs in as crypto officer.
    </p>
  );
}

const names = (list: string[]): string => list.join(', ');

/** A new generation of a card set: from which generation, what was replaced, removed or not yet retired, the escrow key, and the new record. */
export function RotationResult({ report }: { report: RotationReport }): React.JSX.Element {
  const { record } = report;
  return (
    <section aria-labelledby="rotation-title">
      <h3 id="rotation-title">New generation of the {setWords[report.purpose].set}</h3>
      <p role="status">
        Generation {report.from} is replaced by generation {record.generation}: any {record.m} of {record.n} cards {setWords[report.purpose].does}.
      </p>
      {report.replaced.length > 0 ? (
        <p>
          Replaced, and refused from now on: {report.replaced.map((r) => `${r.holder}'s old card${r.card ? ` (serial ${r.card})` : ''}`).join('; ')}.
        </p>
      ) : null}
      {report.removed.length > 0 ? <p>No longer in the set: {names(report.removed)}.</p> : null}
      {report.unretired.length > 0 ? (
        <p className="notice notice-warning" role="note">
          Still holding their old share (it is removed when the card is next used): {names(report.unretired)}.
        </p>
      ) : null}
      {report.escrow === 'kept' ? <p>The escrow key was kept: backups made before are read with the new cards.</p> : null}
      {report.escrow === 'new' ? (
        report.needOldCards.length > 0 ? (
          <p className="notice notice-warning" role="note">
            A new escrow key: these backups can only be read with the old generation's cards, so keep those cards until the backups are no longer needed: {names(report.needOldCards)}.
          </p>
        ) : (
          <p>A new escrow key: no backup on this terminal's catalogue needs the old cards.</p>
        )
      ) : null}
      <EnrolmentRecordView record={record} purpose={report.purpose} />
    </section>
  );
}

const statusWords: Record<RollCallLine['status'], string> = {
  proved: 'Proved: PIN right, share intact, current generation',
  missing: 'Missing: the card was not presented',
  stale: 'Stale: the card holds an older generation',
  failed: 'Not proved',
};

/** A roll call: how many cards were proved, who is missing or stale, and each holder's line. */
export function RollCallResult({ report }: { report: RollCallReport }): React.JSX.Element {
  const proved = report.holders.filter((h) => h.status === 'proved').length;
  return (
    <section aria-labelledby="roll-call-title">
      <h3 id="roll-call-title">
        Roll call of the {setWords[report.purpose].set} of “{report.partition.label}”
      </h3>
      <p role="status">
        {proved} of {report.n} cards proved (generation {report.generation}; any {report.m} {setWords[report.purpose].does}).{' '}
        {report.quorumChecked ? `${report.m} of them rebuilt the set's secret, and it matches.` : `Fewer than ${report.m} cards were proved: the set's secret was not checked.`}
      </p>
      {report.missing.length > 0 ? (
        <p className="notice notice-warning" role="note">
          Missing: {names(report.missing)}.
        </p>
      ) : null}
      {report.stale.length > 0 ? (
        <p className="notice notice-warning" role="note">
          Stale (an older generation on the card): {names(report.stale)}.
        </p>
      ) : null}
      <table className="plain" aria-label="Roll call">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Holder</th>
            <th scope="col">Card serial</th>
            <th scope="col">Status</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          {report.holders.map((h) => (
            <tr key={h.index}>
              <td>{h.index}</td>
              <td>{h.holder}</td>
              <td className="mono">{h.card ?? 'not known'}</td>
              <td>{statusWords[h.status]}</td>
              <td>{h.detail ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
