// The policy in force on the chosen partition, read every time it is asked for (the partition may
// have changed), and the refusal of what it forbids. See policy-record.ts for why a record is
// believed, enforcement.ts for who enforces it.
import type { PolicyView } from '../../shared/types';
import { TesseraError } from '../errors';
import type { PartitionService } from '../partition/partition-service';
import { type GuardedAction, type PolicyEnforcement, terminalEnforcement } from './enforcement';
import { DEFAULT_POLICY, type PartitionPolicy } from './policy';
import { type PolicyRecord, type PolicyStore, readPartitionRecords, recordHash, recordProblem, soRotationKeys } from './policy-record';

/** The policy in force, where it comes from, and what looked wrong on the way. */
export interface PolicyState {
  policy: PartitionPolicy;
  /** 0: no policy recorded, the defaults apply. */
  version: number;
  record: PolicyRecord | null;
  source: 'default' | 'partition' | 'terminal';
  /** Records not believed, a partition that lost its record: in officers' words. */
  problems: string[];
}

export class PolicyService {
  readonly enforcement: PolicyEnforcement = terminalEnforcement;

  constructor(
    private readonly partition: PartitionService,
    private readonly store: PolicyStore,
  ) {}

  /**
   * The newest policy version that verifies, on the partition or in the terminal's database; the
   * defaults when neither holds one. Versions found only on the partition are recorded.
   * @throws TesseraError TOKEN_NOT_SELECTED; CARD_ERROR when the SO card set's anchors disagree.
   */
  state(): PolicyState {
    const serial = this.partition.partition().serial;
    const keys = soRotationKeys(this.partition);
    const problems: string[] = [];
    const onPartition = readPartitionRecords(this.partition, keys);
    const valid = new Map<number, PolicyRecord>();
    const fromPartition = new Set<number>();
    for (const r of onPartition) {
      if (!r.record) continue;
      const same = valid.get(r.record.version);
      if (same && recordHash(same) !== recordHash(r.record)) problems.push(`The partition holds two different signed policies of version ${r.record.version}: two ceremonies changed it at once. The first one found is in force; change the policy again to settle it.`);
      if (!same) valid.set(r.record.version, r.record);
      fromPartition.add(r.record.version);
    }
    const untrusted = onPartition.filter((r) => r.problem);
    const partitionBest = Math.max(0, ...fromPartition);
    let terminalBest = 0;
    for (const stored of this.store.versions(serial)) {
      const problem = recordProblem(stored, serial, keys);
      const record = stored as PolicyRecord;
      if (problem) {
        problems.push(`The terminal's copy of a policy version is not trusted (${problem}). The terminal's database was changed outside a ceremony.`);
        continue;
      }
      terminalBest = Math.max(terminalBest, record.version);
      if (!valid.has(record.version)) valid.set(record.version, record);
    }
    const version = Math.max(partitionBest, terminalBest);
    const record = valid.get(version) ?? null;
    for (const r of untrusted) {
      problems.push(`A policy object on the partition is not trusted: ${r.problem}. It was written or changed outside a ceremony and is ignored${version > 0 ? `; version ${version} is in force` : '; the defaults apply'}.`);
    }
    if (terminalBest > partitionBest) {
      problems.push(`The partition no longer holds version ${terminalBest} of its policy, which this terminal recorded: it was removed outside a ceremony. The terminal holds to its own copy; change the policy again to write it back.`);
    }
    for (const v of fromPartition) if (v > terminalBest) this.store.save(valid.get(v) as PolicyRecord);
    return { policy: record?.policy ?? DEFAULT_POLICY, version, record, source: record ? (fromPartition.has(version) ? 'partition' : 'terminal') : 'default', problems };
  }

  /**
   * Refuses `action` when the policy in force forbids it, naming the setting.
   * @throws TesseraError POLICY_REFUSED.
   */
  refuse(action: GuardedAction, state: PolicyState = this.state()): void {
    const refusal = this.enforcement.refusal(state.policy, action);
    if (refusal) throw new TesseraError('POLICY_REFUSED', refusal, `policy version ${state.version}`);
  }

  /** What the window and `tessera policy show` show. */
  view(set: { m: number; n: number } | null): PolicyView {
    const s = this.state();
    return { partition: { label: this.partition.partition().label, serial: this.partition.partition().serial }, policy: s.policy, version: s.version, source: s.source, problems: s.problems, set, signedBy: s.record ? { ...s.record.signer, approvers: s.record.approvers, at: s.record.at } : null, enforcement: { kind: this.enforcement.kind, words: this.enforcement.words }, refuses: { backup: this.enforcement.refusal(s.policy, 'backup'), restore: this.enforcement.refusal(s.policy, 'restore') } };
  }
}
