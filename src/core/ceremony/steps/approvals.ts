// Step: approvals. Officers are shown what they approve, as words and a short digest of the exact
// change (policy.ts changeDigest), and the cards of distinct SO-set holders are taken until as many
// have approved as the partition policy asks for (at least the set's quorum m; steps/quorum.ts
// checks every share, the first m rebuild the SO secret). The caller records each approver, their
// card and the digest in its audit entry.
import type { ApprovalName } from '../../policy/policy';
import { approvalsNeeded } from '../../policy/policy';
import { TesseraError } from '../../errors';
import { wipe } from '../../secrets';
import type { CeremonyContext, RunOptions } from '../context';
import type { CeremonyRun } from '../run';
import { type Quorum, collectQuorum } from './quorum';
import { replacedWords } from './rotate-cards';

/** Who approved, in share order: holder and card serial. */
export type Approvers = { holder: string; card: string }[];

/** The approvers of a collected quorum, in share order. */
export function approversOf(q: Pick<Quorum, 'descriptor' | 'cards'>): Approvers {
  return [...q.cards.entries()].sort(([a], [b]) => a - b).map(([index, card]) => ({ holder: q.descriptor.holders.find((h) => h.index === index)?.holder ?? `#${index}`, card }));
}

/** How many SO-set holders must approve `operation` on the chosen partition now (null: the quorum m). */
export function approvalsFor(ctx: CeremonyContext, operation: ApprovalName | null): number {
  const d = ctx.trust('so')?.descriptor ?? null;
  const set = d ? { m: d.m, n: d.n } : null;
  if (operation === null) return set?.m ?? 0;
  return approvalsNeeded(ctx.policy.state().policy, operation, set);
}

/**
 * Takes the cards of `count` distinct holders of the SO card set (at least m) approving the change
 * whose digest is `digest`; the SO secret they rebuild is checked against the set's commitment and
 * wiped at once: an approval opens no session.
 * @throws TesseraError CARD_ERROR (no SO card set, cards that do not rebuild the secret); CeremonyCancelled.
 */
export async function collectApprovals(run: CeremonyRun, ctx: CeremonyContext, spec: { count: number; digest: string; what: string } & RunOptions): Promise<Approvers> {
  const trust = ctx.trust('so');
  if (!trust) throw new TesseraError('CARD_ERROR', 'This partition has no SO card set: nobody can approve this. Adopt the partition first (Cards).');
  const quorum = await collectQuorum(run, {
    purpose: 'so',
    trusted: trust.trusted,
    tokenSerial: ctx.partition.partition().serial,
    descriptor: trust.descriptor,
    retryWrongPin: spec.retryWrongPin,
    retire: trust.source !== 'interrupted',
    replaced: replacedWords(ctx),
    count: spec.count,
    of: ` to approve ${spec.what} (digest ${spec.digest})`,
  });
  wipe(quorum.secret);
  return approversOf(quorum);
}
