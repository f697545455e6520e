// Policy: the partition policy in force (each setting in words, the approvals per operation as "k of
// n SO holders"), its version and who approved it, who enforces it and the limit of that, and what
// is wrong with it. A change is drafted in a form with a live side-by-side view (current | proposed |
// risk) and started as the policy-set ceremony, which the officers approve with their SO cards; the
// ceremony under way replaces the form (CeremonyPanel shows the side-by-side view and the digest).
import { useState } from 'react';
import { ceremonyKinds, loginProblem } from '../../shared/ceremonies';
import { APPROVAL_NAMES, APPROVAL_WORDS, type ApprovalName, type PartitionPolicy, type PolicyChange, SETTING_NAMES, SETTING_WORDS, type SettingName, applyChanges, approvalsNeeded, sideBySide } from '../../shared/policy';
import type { PolicyView } from '../../shared/types';
import { ErrorMessage } from '../components/ErrorMessage';
import { usePartition } from '../stores/partition';
import { usePolicy } from '../stores/policy';
import { soLoginHold, useQuorum } from '../stores/quorum';
import { useReloadWhenIdle } from '../stores/reload';
import { PolicySideBySide, when } from './ApprovalDetails';
import { CeremonyPanel } from './CeremonyPanel';

const sourceWords: Record<PolicyView['source'], string> = {
  default: 'No policy is recorded for this partition: the defaults apply.',
  partition: "Read from the partition, where it is kept signed by the SO card set's quorum.",
  terminal: "From this terminal's database (the partition's record could not be used).",
};

/** "Reset the crypto officer's PIN" → "reset the crypto officer's PIN" (PIN stays PIN). */
const lowerFirst = (words: string): string => words.charAt(0).toLowerCase() + words.slice(1);

function approvalWords(policy: PolicyView, operation: ApprovalName): string {
  const k = approvalsNeeded(policy.policy, operation, policy.set);
  if (k === 0) return "No SO approval (the backup key set's own quorum guards a restore).";
  return policy.set ? `${k} of ${policy.set.n} SO holders` : `${k} SO holders (this partition has no SO card set yet)`;
}

function InForce({ policy }: { policy: PolicyView }): React.JSX.Element {
  const signed = policy.signedBy;
  return (
    <section className="panel" aria-labelledby="in-force-title">
      <h2 id="in-force-title">Policy in force: version {policy.version}</h2>
      <p>
        {sourceWords[policy.source]}
        {signed ? ` Approved on ${when(signed.at)} by ${signed.approvers.map((a) => `${a.holder} (card ${a.card})`).join(', ')}; signed with the SO card set ${signed.set}, generation ${signed.generation}.` : ''}
      </p>
      <p className={`notice ${policy.enforcement.kind === 'terminal' ? 'notice-warning' : ''}`} role="note" aria-label="Who enforces the policy">
        <strong>Who enforces it: </strong>
        {policy.enforcement.words}
      </p>
      {policy.problems.length > 0 ? (
        <ul className="notices" aria-label="Problems with the policy">
          {policy.problems.map((p) => (
            <li key={p} className="notice notice-error">
              <span className="notice-mark">Warning: </span>
              {p}
            </li>
          ))}
        </ul>
      ) : null}
      <div className="policy-tables">
        <table className="plain" aria-label="Settings in force">
          <thead>
            <tr>
              <th scope="col">Setting</th>
              <th scope="col">In force</th>
              <th scope="col">What it means</th>
            </tr>
          </thead>
          <tbody>
            {SETTING_NAMES.map((name) => {
              const on = policy.policy.settings[name];
              return (
                <tr key={name}>
                  <th scope="row">{SETTING_WORDS[name].title}</th>
                  <td>{on ? 'On' : 'Off'}</td>
                  <td>{on ? SETTING_WORDS[name].on : SETTING_WORDS[name].off}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <table className="plain" aria-label="Approvals in force">
          <thead>
            <tr>
              <th scope="col">Operation</th>
              <th scope="col">Who must approve</th>
            </tr>
          </thead>
          <tbody>
            {APPROVAL_NAMES.map((a) => (
              <tr key={a}>
                <th scope="row">{APPROVAL_WORDS[a]}</th>
                <td>{approvalWords(policy, a)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** The form's values: each setting on or off, each approval count as typed (effective counts to start with). */
interface Draft {
  settings: PartitionPolicy['settings'];
  approvals: Record<ApprovalName, string>;
}

function draftOf(policy: PolicyView): Draft {
  const approvals = Object.fromEntries(APPROVAL_NAMES.map((a) => [a, String(approvalsNeeded(policy.policy, a, policy.set))])) as Record<ApprovalName, string>;
  return { settings: { ...policy.policy.settings }, approvals };
}

/** The lowest and highest count `operation` may need (checkChanges in core says the same). */
function bounds(operation: ApprovalName, set: PolicyView['set']): { low: number; high: number } {
  return { low: operation === 'restore' ? 0 : (set?.m ?? 1), high: set?.n ?? 16 };
}

/** The changes the draft makes to the policy in force, and the approval fields that are out of range. */
function changesOf(policy: PolicyView, draft: Draft): { changes: PolicyChange[]; invalid: Partial<Record<ApprovalName, string>> } {
  const changes: PolicyChange[] = [];
  const invalid: Partial<Record<ApprovalName, string>> = {};
  for (const name of SETTING_NAMES) if (draft.settings[name] !== policy.policy.settings[name]) changes.push({ name, value: draft.settings[name] });
  for (const a of APPROVAL_NAMES) {
    const { low, high } = bounds(a, policy.set);
    const typed = draft.approvals[a].trim();
    const count = /^\d{1,2}$/.test(typed) ? Number(typed) : NaN;
    if (!(count >= low && count <= high)) {
      invalid[a] = `Between ${low} and ${high}${a === 'restore' ? ' (0: no SO approval)' : ''}.`;
      continue;
    }
    if (count !== approvalsNeeded(policy.policy, a, policy.set)) changes.push({ name: `approvals.${a}`, value: count });
  }
  return { changes, invalid };
}

function ChangeForm({ policy }: { policy: PolicyView }): React.JSX.Element {
  const start = useQuorum((s) => s.start);
  const cardSet = useQuorum((s) => s.cardSet);
  const so = useQuorum((s) => s.so?.active ?? false);
  const loggedIn = usePartition((s) => s.view?.token.loggedIn ?? false);
  const [draft, setDraft] = useState(() => draftOf(policy));
  const { changes, invalid } = changesOf(policy, draft);
  const proposed: PartitionPolicy = applyChanges(policy.policy, changes);
  const lines = sideBySide(policy.policy, proposed, policy.set);
  const count = approvalsNeeded(policy.policy, 'policy', policy.set);
  const logout = usePartition((s) => s.logout);
  // Said at the top, before anyone fills the form: the SO logs in with the approvers' cards.
  const loginBlock = loginProblem('policy-set', { cryptoOfficer: loggedIn, securityOfficer: so });
  const problem =
    (!cardSet && !policy.set ? 'This partition has no SO card set: the policy is changed under an SO quorum. Adopt the partition first (Cards).' : null) ??
    soLoginHold(cardSet) ??
    loginProblem('policy-set', { cryptoOfficer: loggedIn, securityOfficer: so }) ??
    (Object.keys(invalid).length > 0 ? 'Correct the approval counts marked above first.' : null) ??
    (changes.length === 0 ? 'Change at least one setting or approval count: the proposed policy is the one in force.' : null);
  const setSetting = (name: SettingName, on: boolean): void => setDraft({ ...draft, settings: { ...draft.settings, [name]: on } });
  const setApproval = (a: ApprovalName, typed: string): void => setDraft({ ...draft, approvals: { ...draft.approvals, [a]: typed } });
  return (
    <form
      className="panel"
      aria-labelledby="change-policy-title"
      onSubmit={(e) => {
        e.preventDefault();
        if (problem === null) void start({ kind: 'policy-set', changes });
      }}
    >
      <h2 id="change-policy-title">Change the policy</h2>
      {loginBlock ? (
        <div className="notice notice-warning row" role="note">
          <span className="grow">{loginBlock}</span>
          {loggedIn ? (
            <button type="button" onClick={() => void logout()}>
              Log out the crypto officer
            </button>
          ) : null}
        </div>
      ) : null}
      <p>
        The change is approved by {count} of {policy.set?.n ?? '?'} holders of the SO card set{cardSet ? ` (${cardSet.cards.map((c) => c.holder).join(', ')})` : ''}, each with their card and its PIN (the current policy's approvals for a policy change); the SO logs in with their cards to record it on the partition as version {policy.version + 1}.
      </p>
      <div className="policy-form">
        <fieldset>
          <legend>Settings (ticked: on)</legend>
          {SETTING_NAMES.map((name) => (
            <div key={name} className="setting">
              <label>
                <input type="checkbox" checked={draft.settings[name]} onChange={(e) => setSetting(name, e.target.checked)} /> {SETTING_WORDS[name].title}
              </label>
              <span className="muted">
                {draft.settings[name] !== policy.policy.settings[name] ? <strong>Changed to {draft.settings[name] ? 'on' : 'off'}. </strong> : null}
                {draft.settings[name] ? SETTING_WORDS[name].on : SETTING_WORDS[name].off}
              </span>
            </div>
          ))}
        </fieldset>
        <fieldset>
          <legend>Approvals: how many SO holders must approve</legend>
          {APPROVAL_NAMES.map((a) => {
            const { low, high } = bounds(a, policy.set);
            const id = `approvals-${a}`;
            return (
              <div key={a} className="setting">
                <label htmlFor={id}>Approvals: {lowerFirst(APPROVAL_WORDS[a])}</label>
                <span>
                  <input id={id} type="number" min={low} max={high} className="count" value={draft.approvals[a]} disabled={!policy.set} aria-invalid={invalid[a] ? true : undefined} aria-describedby={invalid[a] ? `${id}-problem` : undefined} onChange={(e) => setApproval(a, e.target.value)} /> of {policy.set?.n ?? '?'}
                </span>
                {invalid[a] ? (
                  <span className="field-error" id={`${id}-problem`} role="alert">
                    {invalid[a]}
                  </span>
                ) : null}
              </div>
            );
          })}
        </fieldset>
      </div>
      <h3>Current and proposed, side by side</h3>
      <PolicySideBySide lines={lines} name="Proposed change" />
      {problem ? (
        <p className="notice notice-warning" role="note">
          {problem}
        </p>
      ) : null}
      <div className="row">
        <button type="submit" className="primary" disabled={problem !== null}>
          {changes.length > 0 ? `Start the policy change (${changes.length} change${changes.length === 1 ? '' : 's'})` : 'Start the policy change'}
        </button>
        <button type="button" onClick={() => setDraft(draftOf(policy))} disabled={changes.length === 0 && Object.keys(invalid).length === 0}>
          Back to the policy in force
        </button>
      </div>
    </form>
  );
}

export function PolicyPanel(): React.JSX.Element {
  const { view: policy, error, load } = usePolicy();
  const { ceremony, error: ceremonyError, load: loadQuorum } = useQuorum();
  const view = usePartition((s) => s.view);
  useReloadWhenIdle(load, loadQuorum);
  const here = ceremony && ceremonyKinds[ceremony.kind].section === 'policy';
  return (
    <section aria-labelledby="policy-title">
      <h1 id="policy-title">Partition policy</h1>
      {!view ? <p>Choose a partition first (Partition).</p> : null}
      {error ? <ErrorMessage error={error} /> : null}
      {ceremonyError && !ceremony ? <ErrorMessage error={ceremonyError} /> : null}
      {here ? (
        <CeremonyPanel view={ceremony} />
      ) : view && policy ? (
        <>
          <InForce policy={policy} />
          {/* A new version in force starts a fresh draft. */}
          <ChangeForm key={`${policy.partition.serial}:${policy.version}`} policy={policy} />
        </>
      ) : null}
    </section>
  );
}
