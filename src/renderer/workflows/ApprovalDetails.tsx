// What officers look at before they approve a key or policy change, and what it left behind: the
// current and proposed policy side by side (changed rows marked in words, with the risk), the keys
// with what comes back or goes, the digest of the exact change, and the reports at the end.
import { formatDateTime } from '../format';
import type { PolicyLine } from '../../shared/policy';
import type { CeremonyView, InvalidatedKeyView, KeyChangeReport, ObjectClassName, PolicyChangeReport } from '../../shared/types';

export const classWords: Record<ObjectClassName, string> = {
  'private-key': 'private key',
  'public-key': 'public key',
  'secret-key': 'secret key',
  certificate: 'certificate',
  data: 'data object',
  other: 'other object',
};

/** The usage attributes that were on (CKA_SIGN, CKA_DECRYPT), or that none was. */
export function usageOn(usage: Record<string, boolean>): string {
  const on = Object.entries(usage)
    .filter(([, v]) => v)
    .map(([k]) => k);
  return on.length > 0 ? on.join(', ') : 'none';
}

/** The digest approvers compare: a short hash of the exact change. */
export function Digest({ digest }: { digest: string }): React.JSX.Element {
  return (
    <p className="digest">
      Digest of this change: <strong className="mono" aria-label="Digest">{digest}</strong>
    </p>
  );
}

/** Current | proposed | risk, one row per setting and approval count; a changed row says so in words. */
export function PolicySideBySide({ lines, name }: { lines: PolicyLine[]; name: string }): React.JSX.Element {
  return (
    <table className="plain side-by-side" aria-label={name}>
      <thead>
        <tr>
          <th scope="col">Setting</th>
          <th scope="col">Current</th>
          <th scope="col">Proposed</th>
          <th scope="col">Change</th>
          <th scope="col">Risk of the change</th>
        </tr>
      </thead>
      <tbody>
        {lines.map((l) => (
          <tr key={l.name} className={l.changed ? 'changed' : undefined}>
            <th scope="row">{l.title}</th>
            <td>{l.current}</td>
            <td>{l.proposed}</td>
            <td>{l.changed ? 'Changed' : 'Unchanged'}</td>
            <td>{l.risk ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function PolicyChangeDetail({ detail }: { detail: Extract<CeremonyView['detail'], { kind: 'policy-change' }> }): React.JSX.Element {
  const changed = detail.lines.filter((l) => l.changed).length;
  return (
    <section aria-labelledby="policy-change-title">
      <h3 id="policy-change-title">
        Current and proposed policy: {changed} change{changed === 1 ? '' : 's'}
      </h3>
      <PolicySideBySide lines={detail.lines} name="Current and proposed policy" />
      <Digest digest={detail.digest} />
    </section>
  );
}

/** What comes back (each object's usage, one line each) or what goes. */
function KeyObjects({ k, action }: { k: InvalidatedKeyView; action: 'reactivate' | 'destroy' }): React.JSX.Element {
  if (k.objects.length === 0) return <>{action === 'destroy' ? 'its objects are gone already; its record is cleared' : 'no objects recorded'}</>;
  if (action === 'destroy') return <>{`${k.objects.map((o) => classWords[o.class]).join(' and ')}, for good`}</>;
  return (
    <>
      {k.objects.map((o) => (
        <div key={o.class}>
          {classWords[o.class]}: <span className="mono">{usageOn(o.usage)}</span>
        </div>
      ))}
    </>
  );
}

function KeyChangeDetail({ detail }: { detail: Extract<CeremonyView['detail'], { kind: 'key-change' }> }): React.JSX.Element {
  const reactivate = detail.action === 'reactivate';
  return (
    <section aria-labelledby="key-change-title">
      <h3 id="key-change-title">{reactivate ? 'The key to reactivate' : `The ${detail.keys.length === 1 ? 'key' : `${detail.keys.length} keys`} to destroy`}</h3>
      <table className="plain" aria-label={reactivate ? 'Key to reactivate' : 'Keys to destroy'}>
        <thead>
          <tr>
            <th scope="col">ID</th>
            <th scope="col">Label</th>
            <th scope="col">{reactivate ? 'Usage that comes back on' : 'What goes'}</th>
            <th scope="col">Invalidated</th>
          </tr>
        </thead>
        <tbody>
          {detail.keys.map((k) => (
            <tr key={k.id}>
              <td className="mono">{k.id}</td>
              <td>{k.label || '(no label)'}</td>
              <td>
                <KeyObjects k={k} action={detail.action} />
              </td>
              <td>{k.invalidatedAt ? `${when(k.invalidatedAt)} by ${k.invalidatedBy}` : 'not in the trash bin'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Digest digest={detail.digest} />
    </section>
  );
}

/** The side-by-side policy or the keys of the ceremony under way, when it shows one. */
export function ChangeDetail({ view }: { view: CeremonyView }): React.JSX.Element | null {
  const d = view.detail;
  if (d?.kind === 'policy-change') return <PolicyChangeDetail detail={d} />;
  if (d?.kind === 'key-change') return <KeyChangeDetail detail={d} />;
  return null;
}

export function when(iso: string): string {
  return formatDateTime(iso);
}

function Approvers({ approvers }: { approvers: { holder: string; card: string }[] }): React.JSX.Element {
  return <p>Approved by {approvers.length > 0 ? approvers.map((a) => `${a.holder} (card ${a.card})`).join(', ') : 'nobody'}.</p>;
}

const outcomeWords: Record<KeyChangeReport['keys'][number]['outcome'], string> = {
  reactivated: 'Reactivated: usable again, exactly as before',
  destroyed: 'Destroyed for good',
  failed: 'FAILED',
  'not-done': 'Not done',
};

/** Per key: what happened to it, with who approved and the digest they saw. */
export function KeyChangeResult({ report }: { report: KeyChangeReport }): React.JSX.Element {
  const ok = report.keys.filter((k) => k.outcome === 'reactivated' || k.outcome === 'destroyed').length;
  return (
    <section aria-labelledby="key-result-title">
      <h3 id="key-result-title">{report.action === 'reactivate' ? 'Reactivation report' : 'Destroy report'}</h3>
      <p role="status">
        {ok} of {report.keys.length} key{report.keys.length === 1 ? '' : 's'} {report.action === 'reactivate' ? 'reactivated' : 'destroyed'} in “{report.partition.label}” (serial {report.partition.serial}).
      </p>
      <table className="plain" aria-label="Report per key">
        <thead>
          <tr>
            <th scope="col">ID</th>
            <th scope="col">Label</th>
            <th scope="col">Outcome</th>
          </tr>
        </thead>
        <tbody>
          {report.keys.map((k) => (
            <tr key={k.id}>
              <td className="mono">{k.id}</td>
              <td>{k.label || '(no label)'}</td>
              <td className={k.outcome === 'failed' ? 'outcome-failed' : undefined}>
                {outcomeWords[k.outcome]}
                {k.detail ? `: ${k.detail}` : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Approvers approvers={report.approvers} />
      <Digest digest={report.digest} />
    </section>
  );
}

export function PolicyChangeResult({ report }: { report: PolicyChangeReport }): React.JSX.Element {
  return (
    <section aria-labelledby="policy-result-title">
      <h3 id="policy-result-title">Policy version {report.version} is in force</h3>
      <p role="status">
        The partition policy of “{report.partition.label}” (serial {report.partition.serial}) went from version {report.from} to version {report.version}.
      </p>
      <ul aria-label="Policy changes">
        {report.changes.map((c) => (
          <li key={c.name}>
            {c.name}: {c.from} → {c.to}
          </li>
        ))}
      </ul>
      <Approvers approvers={report.approvers} />
      <Digest digest={report.digest} />
    </section>
  );
}
