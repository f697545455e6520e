// Step: collect a quorum of one card set (the SO set for a login, a backup set for a restore). Each
// card is identified before its PIN is asked for; a blank, foreign, old, copied, forged or repeated
// card is refused with its reason and costs nothing. Each share is opened with its holder's PIN and
// checked against the set; the combined secret is checked against the set's commitment before the
// caller may use it: the share library itself would combine wrong shares into a wrong secret.
import { TesseraError } from '../../errors';
import { type CardRecord, type TrustedSet, openShare, refusal } from '../../quorum/card-record';
import { type CardSetDescriptor, type Purpose, combineShares, commitment, descriptorHash, matches } from '../../quorum/card-set';
import { wipe } from '../../secrets';
import { CardPulled, CeremonyCancelled, type CeremonyRun } from '../run';
import { cardName, cardProblem, identify, retireOldGeneration } from './cards';
import { withCardPin } from './pin';

export interface QuorumSpec {
  purpose: Purpose;
  /** The set the cards must belong to, and its partition. */
  trusted: TrustedSet;
  tokenSerial: string;
  /** The set's descriptor when known; learned from the first matching card otherwise. */
  descriptor: CardSetDescriptor | null;
  retryWrongPin: boolean;
  /** Words after "insert your card", e.g. " (backup key set of “Lab”)". */
  of?: string;
  /** A further check of a matching card's record; throws to stop the whole ceremony (a forged file). */
  accept?(record: CardRecord): void;
  /**
   * The trusted generation is in force on the partition: a card holding it beside an old generation
   * (a rotation's pending copy) has the old one retired once its share opened. Never while a
   * rotation is still undecided (its old generation may be the one that holds).
   */
  retire?: boolean;
  /**
   * A later generation of the trusted set that may stand in for it (a backup set re-split with the
   * same escrow key: older backups are read with the new cards); the first card decides which.
   */
  laterGeneration?(descriptor: CardSetDescriptor): boolean;
  /** Holders whose card does not count here (a card replacement's holder): not named as eligible. */
  excluded?: string[];
  /** Why a card of an older generation no longer counts, when the terminal knows ("replaced on …"). */
  replaced?(record: CardRecord, cardSerial: string): string | null;
  /**
   * Approvals: how many distinct holders' cards to take (at least m; the partition policy may ask
   * for more). Every card read beyond m proves its holder's approval the same way: its share opens
   * under its PIN and is checked against the set.
   */
  count?: number;
}

export interface Quorum {
  descriptor: CardSetDescriptor;
  /** The rebuilt secret, checked against the commitment. The caller wipes it. */
  secret: Buffer;
  /** Holders in share order, and their card serials by share index. */
  holders: string[];
  cards: Map<number, string>;
}

const purposeWords: Record<Purpose, string> = { so: 'the SO card set', backup: "this backup's key set" };

/**
 * Collects m distinct cards of the set and rebuilds its secret.
 * @throws TesseraError CARD_ERROR when the cards do not rebuild the committed secret; whatever
 *   `accept` throws; CeremonyCancelled.
 */
export async function collectQuorum(run: CeremonyRun, spec: QuorumSpec): Promise<Quorum> {
  let descriptor = spec.descriptor;
  let trusted = spec.trusted;
  const shares = new Map<number, Buffer>();
  const cards = new Map<number, string>();
  run.newQuorum();
  try {
    const needed = (d: CardSetDescriptor): number => Math.min(d.n, Math.max(d.m, spec.count ?? 0));
    while (!descriptor || shares.size < needed(descriptor)) {
      if (descriptor) run.needs(needed(descriptor));
      const presented = await run.nextCard({ kind: 'insert-card', text: `${officerOf(shares.size, descriptor, spec.count)}${eligible(descriptor, shares, spec.excluded ?? [])}: insert your card${spec.of ?? ''}.` });
      let name = 'This card';
      try {
        const id = await identify(presented.card);
        name = cardName(id);
        const slot = id.slots[spec.purpose];
        const { frame } = slot;
        let record = slot.record;
        let fromNext = false;
        // A rotation's next generation beside the old one: used when it is the generation asked for.
        const next = slot.next;
        const later = (r: CardRecord | null): boolean => r !== null && shares.size === 0 && r.descriptor.set === trusted.set && r.descriptor.generation > trusted.generation && spec.laterGeneration?.(r.descriptor) === true;
        // The generation asked for first (beside an old one, or as the card's record), then a later stand-in.
        const exact = (r: CardRecord | null): boolean => r !== null && r.descriptor.set === trusted.set && r.descriptor.generation === trusted.generation;
        if (next && (exact(next) || (!exact(record) && later(next)))) {
          record = next;
          fromNext = true;
        }
        if (record && later(record)) {
          trusted = { set: record.descriptor.set, generation: record.descriptor.generation, descriptorHash: descriptorHash(record.descriptor) };
          descriptor = null;
        }
        let refused = frame.state === 'empty' || !id.serial ? `it holds no share of ${purposeWords[spec.purpose]}.` : refusal(record, fromNext ? { state: 'ok', body: Buffer.alloc(0) } : frame, id.serial, trusted, spec.tokenSerial);
        // A card the terminal knows was replaced never counts, whatever generation is asked for.
        const gone = record && id.serial && record.descriptor.set === trusted.set && record.descriptor.generation <= trusted.generation ? spec.replaced?.(record, id.serial) ?? null : null;
        if (gone) refused = gone;
        if (refused || !record || !id.serial) {
          run.notice('warning', `${name}: ${refused}`);
          continue;
        }
        if (shares.has(record.index) || [...cards.values()].includes(id.serial)) {
          run.notice('warning', `${name}: already read. Each officer's card counts once; insert another officer's card.`);
          continue;
        }
        spec.accept?.(record);
        descriptor ??= record.descriptor;
        run.needs(needed(descriptor));
        const officer = officerOf(shares.size, descriptor, spec.count);
        const share = await withCardPin(
          run,
          presented.card,
          { holder: record.holder, reader: presented.reader, text: `${officer}, ${record.holder}: type your card PIN.`, retry: spec.retryWrongPin },
          async (pin) => {
            const opened = await openShare(presented.card, record, pin, spec.purpose);
            if ('refused' in opened) {
              run.notice('error', `${name}: ${opened.refused}`);
              return null;
            }
            return 'share' in opened ? opened.share : opened;
          },
        );
        if (!share) continue;
        if (fromNext && spec.retire) {
          await retireOldGeneration(presented.card, spec.purpose, record);
          run.notice('info', `${record.holder}'s card: its old-generation share was removed.`);
        }
        shares.set(record.index, share);
        cards.set(record.index, id.serial);
        run.collect(record.holder, record.index, id.serial);
        run.notice('info', `${record.holder}'s card read: ${shares.size} of ${needed(descriptor)} collected. Take the card out.`);
      } catch (error) {
        if (error instanceof CeremonyCancelled || !isCardTrouble(error)) throw error;
        const problem = cardProblem(error, 'taken out before it was read. Insert it again.');
        run.notice('warning', `${name}: ${problem.text}`, problem.detail);
      } finally {
        await presented.session.close();
      }
    }
    run.working('Rebuilding and checking the secret…');
    const ordered = [...shares.entries()].sort(([a], [b]) => a - b).map(([, share]) => share);
    const secret = await combineShares(ordered, descriptor.m);
    if (!matches(trusted.descriptorHash, descriptorHash(descriptor)) || !matches(descriptor.commitment, commitment(descriptor.set, descriptor.generation, secret))) {
      wipe(secret);
      throw new TesseraError('CARD_ERROR', 'The cards do not rebuild the set\'s secret. Nothing was sent to the HSM.', 'commitment mismatch');
    }
    const d = descriptor;
    const holders = [...shares.keys()].sort((a, b) => a - b).map((i) => d.holders.find((h) => h.index === i)?.holder ?? `#${i}`);
    // Cards in share order, as the holders are: the audit log pairs them by position.
    return { descriptor: d, secret, holders, cards: new Map([...cards.entries()].sort(([a], [b]) => a - b)) };
  } finally {
    for (const share of shares.values()) wipe(share);
  }
}

/** "Officer 2 of 3", or "Officer 1" before the set is known (of `count` approvals when more than m are asked for). */
function officerOf(collected: number, d: CardSetDescriptor | null, count?: number): string {
  if (!d) return `Officer ${collected + 1}`;
  return `Officer ${collected + 1} of ${Math.min(d.n, Math.max(d.m, count ?? 0))}`;
}

/** " (eligible: alice, carol, dave)": the holders whose cards have not been read yet. */
function eligible(d: CardSetDescriptor | null, shares: Map<number, Buffer>, excluded: string[]): string {
  if (!d) return '';
  const left = d.holders.filter((h) => !shares.has(h.index) && !excluded.some((x) => x.toLowerCase() === h.holder.toLowerCase())).map((h) => h.holder);
  return left.length > 0 ? ` (eligible: ${left.join(', ')})` : '';
}

/** Errors that end one card's turn, not the ceremony: the card's own trouble (pulled, mute, refused). */
function isCardTrouble(error: unknown): boolean {
  if (error instanceof CardPulled) return true;
  if (error instanceof TesseraError) return error.code.startsWith('CARD_') || error.code === 'READER_NOT_FOUND';
  // Anything else a card made us trip over (its bytes are untrusted) costs that card its turn only.
  return error instanceof Error;
}
