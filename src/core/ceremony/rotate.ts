// Rotations: a new generation of a card set. For the SO set (so-rotate, so-replace-card): a quorum
// of the generation in force logs in as SO; a new random credential is split onto the holders' cards
// (kept cards beside their old share, blank cards for new holders and replaced cards), every card
// read back and opened; then C_SetPIN, then the partition's anchor of the new generation (endorsed by
// the old one), then the old generation is retired on the cards. For the backup set
// (backup-set-rotate, backup-replace-card) the same, with the escrow key re-split (older backups stay
// readable with the new cards) or replaced by a new one (they then need the old generation's cards),
// and no C_SetPIN. Holders, m and n may change. Each step is in the intent log first; a crash is
// finished or rolled back at the next start (rotate-recovery.ts). See docs/card-profile.md.
import type { CeremonyStartOf } from '../../shared/ceremonies';
import type { CeremonyResult, RotationReport } from '../../shared/types';
import { escrowPublic, newEscrowKey } from '../backup/escrow';
import { TesseraError } from '../errors';
import { type Anchor, protectionWords } from '../partition/anchor';
import { type CardSetDescriptor, type Purpose, descriptorHash, newCredential, nextDescriptor, splitSecret } from '../quorum/card-set';
import { confirmInForce, endorse, rotationPublicKey } from '../quorum/rotation-key';
import { CARDS_WRITING, ROTATE_INTENT, type RotateIntent, interruptedRotation } from '../quorum/trust';
import { wipe } from '../secrets';
import { checkHolders } from './adopt';
import type { CeremonyContext, RunOptions } from './context';
import { SET_PIN_ACTION } from './rotate-recovery';
import type { CeremonyRun } from './run';
import { loginSoWithQuorum, precheckSoLogin } from './so-login';
import { briefing, confirm } from './steps/confirm';
import { enrolmentRecord } from './steps/enrol';
import { IntentSteps } from './steps/intent';
import { type QuorumSpec, collectQuorum } from './steps/quorum';
import { replacedWords, retirePass, writeGeneration } from './steps/rotate-cards';

export type RotationKind = 'so-rotate' | 'so-replace-card' | 'backup-set-rotate' | 'backup-replace-card';
type Start = CeremonyStartOf<RotationKind>;

/** What a rotation will do, decided before any card is read. */
export interface RotationPlanned {
  purpose: Purpose;
  current: CardSetDescriptor;
  holders: string[];
  m: number;
  /** Lower-case names of new-generation holders who keep their card → their old share index. */
  keep: Map<string, number>;
  replaced: string[];
  removed: string[];
  newEscrowKey: boolean;
}

const purposeOf = (kind: RotationKind): Purpose => (kind.startsWith('so-') ? 'so' : 'backup');
const setWords: Record<Purpose, string> = { so: 'SO card set', backup: 'backup key set' };

/**
 * The plan of a rotation: holders and threshold (unchanged unless given), who keeps a card, who
 * needs a blank one. Checked before any card or PIN.
 * @throws TesseraError INVALID_REQUEST (holders, threshold, unknown holder, a set this terminal has no
 *   record of, an unfinished rotation), CARD_ERROR / PIN_LOCKED from the SO login's prechecks.
 */
export function planRotation(ctx: CeremonyContext, start: Start): RotationPlanned {
  const purpose = purposeOf(start.kind);
  if (purpose === 'so') precheckSoLogin(ctx);
  const trust = ctx.trust(purpose);
  const token = ctx.partition.partition();
  if (!trust) throw new TesseraError('INVALID_REQUEST', purpose === 'so' ? 'This partition has no card set yet. Adopt it first (Cards).' : 'This partition has no backup key set yet. Create it first (Backup).');
  if (trust.source === 'interrupted' || interruptedRotation(ctx.intents, purpose, token.serial)) throw new TesseraError('INVALID_REQUEST', `A change of the ${setWords[purpose]} was interrupted${purpose === 'so' ? ' while the SO PIN was being changed. Log in as SO with the new cards first: that finishes it (or rolls it back)' : '. Restart the terminal: it is finished or rolled back at start'}.`);
  const current = trust.descriptor;
  if (trust.source !== 'terminal' || !current) throw new TesseraError('INVALID_REQUEST', `This terminal has no record of the partition's ${setWords[purpose]} in force (generation ${trust.trusted.generation}). ${purpose === 'so' ? 'Log in as SO once on this terminal' : 'Read a backup with the set\'s cards once on this terminal'} first: the set is recorded then.`);
  if (!current.rotationKey) throw new TesseraError('INVALID_REQUEST', `This ${setWords[purpose]} was enrolled before generations could be endorsed: it cannot be rotated. Enrol a new set instead.`);
  const holders = 'holders' in start && start.holders ? start.holders.map((h) => h.trim()) : current.holders.map((h) => h.holder);
  const m = 'threshold' in start && start.threshold !== undefined ? start.threshold : Math.min(current.m, holders.length);
  checkHolders({ holders, threshold: m });
  const old = new Map(current.holders.map((h) => [h.holder.toLowerCase(), h]));
  const replaced: string[] = [];
  if ('holder' in start) {
    const h = old.get(start.holder.trim().toLowerCase());
    if (!h) throw new TesseraError('INVALID_REQUEST', `“${start.holder}” is not a holder of the ${setWords[purpose]} (holders: ${current.holders.map((x) => x.holder).join(', ')}).`);
    replaced.push(h.holder);
    if (current.n - 1 < current.m) throw new TesseraError('INVALID_REQUEST', `Without ${h.holder}'s card, ${current.n - 1} cards are left, fewer than the ${current.m} the quorum needs: the set cannot be changed without it.`);
  }
  const keep = new Map<string, number>();
  for (const name of holders) {
    const h = old.get(name.toLowerCase());
    if (h && !replaced.includes(h.holder)) keep.set(name.toLowerCase(), h.index);
  }
  const removed = current.holders.filter((h) => !holders.some((n) => n.toLowerCase() === h.holder.toLowerCase())).map((h) => h.holder);
  return { purpose, current, holders, m, keep, replaced, removed, newEscrowKey: 'newEscrowKey' in start && start.newEscrowKey === true };
}

/** Runs a rotation ceremony of `start.kind`. */
export async function rotate<K extends RotationKind>(run: CeremonyRun, ctx: CeremonyContext, request: CeremonyStartOf<K>, options: RunOptions): Promise<Extract<CeremonyResult, { kind: K }>> {
  const start = request as Start;
  const plan = planRotation(ctx, start);
  const { purpose, current, holders, m } = plan;
  const { partition, audit, store } = ctx;
  const token = partition.partition();
  const target = `${token.label} (serial ${token.serial})`;
  const n = holders.length;
  const blanks = holders.filter((h) => !plan.keep.has(h.toLowerCase()));
  const keptHolders = holders.filter((h) => plan.keep.has(h.toLowerCase()));
  const eligible = current.holders.map((h) => h.holder).filter((h) => !plan.replaced.includes(h));
  const catalogue = purpose === 'backup' && plan.newEscrowKey ? ctx.catalogue.list(token.serial).filter((b) => b.backupSet === current.set).map((b) => b.fileName) : [];

  let oldSecret: Buffer | null = null;
  let secret: Buffer | null = null;
  let shares: Buffer[] = [];
  let steps: IntentSteps<RotateIntent> | null = null;
  try {
    run.stepTo(0);
    await briefing(run, briefingText(plan, token.label, eligible, keptHolders, blanks, catalogue));

    run.stepTo(1);
    const of = ` (${setWords[purpose]} of “${token.label}”, generation ${current.generation})`;
    const replaced: QuorumSpec['replaced'] = (record, serial) => (plan.replaced.some((h) => h.toLowerCase() === record.holder.toLowerCase()) ? `this is the card this ceremony replaces: it does not count in the quorum. ${record.holder} receives a blank card later.` : replacedWords(ctx)(record, serial));
    // The SO set: a quorum logs the SO in (as any SO login: its holds and checks); the backup set: the escrow key.
    const quorum =
      purpose === 'so'
        ? await loginSoWithQuorum(run, ctx, { ...options, loginStep: 1, of, replaced, excluded: plan.replaced, keepSecret: true })
        : await collectQuorum(run, { purpose, trusted: { set: current.set, generation: current.generation, descriptorHash: descriptorHash(current) }, tokenSerial: token.serial, descriptor: current, retryWrongPin: options.retryWrongPin, retire: true, of, replaced, excluded: plan.replaced });
    oldSecret = quorum.secret ?? null;
    if (!oldSecret || quorum.descriptor.generation !== current.generation || quorum.descriptor.set !== current.set) throw new TesseraError('CARD_ERROR', 'The quorum is not of the generation in force. Nothing was changed.');
    if (purpose === 'backup' && !escrowPublic(oldSecret).equals(Buffer.from(current.backup?.escrowPublic ?? '', 'base64'))) throw new TesseraError('CARD_ERROR', "The cards do not rebuild the backup set's escrow key. Nothing was changed.");
    if (rotationPublicKey(oldSecret, purpose, current.set, current.generation) !== current.rotationKey) throw new TesseraError('CARD_ERROR', 'The cards do not rebuild the rotation key of the generation in force. Nothing was changed.');

    // The new secret: a new SO credential; the same escrow key (re-split) or a new one.
    const random = partition.random(32);
    if (purpose === 'so') secret = newCredential(random, token.maxPinLength);
    else secret = plan.newEscrowKey ? newEscrowKey(random) : Buffer.from(oldSecret);
    wipe(random);
    shares = await splitSecret(secret, m, n);
    const backupKeys = current.backup ? { ...current.backup, escrowPublic: escrowPublic(secret).toString('base64') } : undefined;
    const next = nextDescriptor(current, token, holders, m, shares, secret, purpose === 'backup' ? backupKeys : undefined);
    const nextHash = descriptorHash(next);
    const succession = { purpose, set: next.set, partitionSerial: token.serial, generation: next.generation, descriptorHash: nextHash, rotationKey: next.rotationKey as string, previousDescriptorHash: descriptorHash(current) };
    const anchor: Anchor = {
      set: next.set,
      generation: next.generation,
      descriptor: nextHash,
      ...(purpose === 'backup' ? { full: next } : {}),
      rotationKey: next.rotationKey as string,
      previous: descriptorHash(current),
      endorsement: endorse(oldSecret, current.generation, succession),
    };
    const replacedCards = plan.replaced.map((holder) => ({ holder, card: store.cards(current.set, current.generation).find((c) => c.holder === holder)?.cardSerial ?? null }));
    await audit.append({ actor: ctx.actor, action: `${purpose === 'so' ? 'cardset' : 'backupset'}.rotate.start`, target, outcome: 'ok', details: { set: next.set, from: current.generation, generation: next.generation, m, n, holders: holders.join(', '), replaced: plan.replaced.join(', ') || null, approvedBy: quorum.holders.join(', '), approverCards: [...quorum.cards.values()].join(', ') } });
    steps = new IntentSteps<RotateIntent>(ctx.intents, ROTATE_INTENT[purpose], CARDS_WRITING, { descriptor: next, from: { generation: current.generation, descriptorHash: descriptorHash(current) }, anchor, cards: {}, kept: keptHolders, replaced: replacedCards, removed: plan.removed });
    const intent = steps;

    run.stepTo(2);
    run.freshPass();
    run.newQuorum();
    const written = await writeGeneration(run, {
      purpose,
      old: current,
      next,
      shares,
      keep: new Map([...plan.keep].map(([name]) => [name, next.holders.find((h) => h.holder.toLowerCase() === name)?.index as number])),
      replaced: new Set(plan.replaced.map((h) => h.toLowerCase())),
      retryWrongPin: options.retryWrongPin,
      abandoned: (set) => store.abandoned(set),
      written: (index, all) => intent.advance(CARDS_WRITING, { ...intent.data, cards: Object.fromEntries([...all].map(([i, c]) => [String(i), c])) }, `card-${index}`),
    });

    run.stepTo(3);
    const inForce = n === 1 ? 'this card' : m === n ? `all ${n} cards together` : `any ${m} of these ${n} cards`;
    if (purpose === 'so') {
      await confirm(run, `All ${n} cards of generation ${next.generation} are written and checked. Change the SO PIN of “${token.label}” (serial ${token.serial}) now? The current SO credential stops working, and with it every card of generation ${current.generation}; from then on ${inForce} log in as SO.`, `Change the SO PIN of “${token.label}”`, 'destroys');
      if (partition.partition().serial !== token.serial) throw new TesseraError('TOKEN_NOT_FOUND', 'The partition in the slot is no longer the one the cards were written for. Nothing was changed.');
      run.working('Changing the SO PIN…');
      const from = oldSecret;
      const to = secret;
      // In the audit log first: an interrupted change is probed only if the keyed log shows it began (rotate-recovery.ts).
      await audit.append({ actor: ctx.actor, action: SET_PIN_ACTION, target, outcome: 'ok', details: { set: next.set, generation: next.generation, descriptor: nextHash } });
      try {
        intent.hsm('set-pin', 'so-pin-changing', 'so-pin-changed', () => partition.changeSoPin(from, to));
      } catch (error) {
        // C_SetPIN returned an error: the PIN was not changed, and the rotation is rolled back below.
        await audit.append({ actor: ctx.actor, action: SET_PIN_ACTION, target, outcome: 'failed', details: { set: next.set, generation: next.generation, descriptor: nextHash, error: error instanceof TesseraError ? error.code : 'INTERNAL' } });
        throw error;
      }
    } else {
      await confirm(run, `All ${n} cards of generation ${next.generation} are written and checked. Record the new generation on “${token.label}”? From then on ${inForce} read and restore its backups${plan.newEscrowKey ? ', and new backups are encrypted to the new escrow key' : ''}; the cards of generation ${current.generation} no longer count.`, 'Record the new generation', 'destroys');
      run.working('Recording the new generation on the partition…');
    }
    // Confirmed by the new generation only now that it is in force (the HSM took its credential).
    const protection = partition.writeAnchor(purpose, { ...anchor, confirmation: confirmInForce(secret, succession) });
    intent.advance('anchored', intent.data, 'after-anchor');
    store.save(next, 'active', written);
    intent.finish('done');
    run.settledWrites();
    if (purpose === 'so') partition.logoutSo();
    const record = enrolmentRecord(next, written);
    await audit.append({
      actor: ctx.actor,
      action: `${purpose === 'so' ? 'cardset' : 'backupset'}.rotate`,
      target,
      outcome: 'ok',
      details: { kind: start.kind, set: next.set, from: current.generation, generation: next.generation, descriptor: nextHash, m, n, cards: record.cards.map((c) => `${c.holder}=${c.card}`).join(', '), replaced: replacedCards.map((r) => `${r.holder}=${r.card ?? 'unknown card'}`).join(', ') || null, removed: plan.removed.join(', ') || null, approvedBy: quorum.holders.join(', '), approverCards: [...quorum.cards.values()].join(', '), escrow: purpose === 'backup' ? (plan.newEscrowKey ? 'new' : 'kept') : null, ...(record.fingerprint ? { setFingerprint: record.fingerprint } : {}), anchor: protectionWords(protection) },
    });

    run.stepTo(4);
    run.freshPass();
    const unretired = await retirePass(run, purpose, next, keptHolders.filter((h) => written.has(next.holders.find((x) => x.holder === h)?.index as number)), ROTATE_INTENT[purpose]);
    const rotation: RotationReport = { purpose, from: current.generation, record, replaced: replacedCards, removed: plan.removed, unretired, escrow: purpose === 'backup' ? (plan.newEscrowKey ? 'new' : 'kept') : null, needOldCards: catalogue };
    return { kind: start.kind, rotation } as Extract<CeremonyResult, { kind: K }>;
  } finally {
    for (const share of shares) wipe(share);
    wipe(oldSecret, secret);
    // Stopped before anything changed on the partition: the new generation is abandoned (its cards can be written again).
    // (C_SetPIN that returned an error did not change the PIN: rolled back too. Only a crash inside it is undecided.)
    if (steps && !steps.finished && (steps.step === CARDS_WRITING || steps.step === 'so-pin-changing')) {
      steps.finish(run.isCancelled ? 'cancelled' : 'failed');
      store.abandon(steps.data.descriptor);
    }
    if (partition.soLoggedIn) partition.logoutSo();
  }
}

/** What officers are told before anything starts: who must be present, blank cards, what stops working. */
function briefingText(plan: RotationPlanned, label: string, eligible: string[], kept: string[], blanks: string[], needOld: string[]): string {
  const { purpose, current, m, holders } = plan;
  const lines = [
    `Present first: any ${current.m} of ${eligible.join(', ')} with their ${purpose === 'so' ? 'SO' : 'backup-set'} cards of generation ${current.generation} (card PINs needed).`,
    `Then every holder of generation ${current.generation + 1} (${m} of ${holders.length}: ${holders.join(', ')}) presents a card: ${kept.length > 0 ? `${kept.join(', ')} their own card (sealed again under its PIN)` : 'no card is kept'}${blanks.length > 0 ? `; ${blanks.length} blank card${blanks.length === 1 ? '' : 's'}, for ${blanks.join(', ')} (a new PIN is chosen)` : ''}.`,
    kept.length > 0 ? `At the end, ${kept.join(', ')} insert their card once more (no PIN) to retire the old generation on it.` : '',
    `Afterwards: every card of generation ${current.generation} stops counting${plan.replaced.length > 0 ? `; ${plan.replaced.join(', ')}'s old card is refused before its PIN is asked` : ''}${plan.removed.length > 0 ? `; ${plan.removed.join(', ')} ${plan.removed.length === 1 ? 'is' : 'are'} no longer a holder` : ''}${purpose === 'so' ? `; the partition's SO PIN changes (nobody knows it)` : ''}.`,
    purpose === 'backup' && !plan.newEscrowKey ? `The escrow key stays the same: every backup of “${label}” stays readable, with the new cards.` : '',
    purpose === 'backup' && plan.newEscrowKey ? `A new escrow key: new backups are encrypted to it. ${needOld.length > 0 ? `These backups on the catalogue were encrypted to the old key and can then be read only with cards of generation ${current.generation}, which this ceremony retires: ${needOld.join(', ')}. Make a new backup afterwards.` : 'No backup on the catalogue was made with the old key.'}` : '',
  ];
  return lines.filter(Boolean).join('\n');
}

/** The summary's lines for a rotation. */
export function rotationChanges(r: RotationReport): string[] {
  const { record } = r;
  const what = r.purpose === 'so' ? 'SO card set' : 'backup key set';
  const inForce = record.n === 1 ? 'this card' : record.m === record.n ? `all ${record.n} cards together` : `any ${record.m} of these ${record.n} cards`;
  return [
    `Generation ${record.generation} of the ${what} of “${record.partition.label}” is in force: ${inForce} ${r.purpose === 'so' ? 'log in as SO; the SO PIN was changed' : `read and restore its backups${r.escrow === 'new' ? ' (new escrow key)' : ' (same escrow key: older backups stay readable with these cards)'}`}. Cards of generation ${r.from} no longer count.`,
    ...r.replaced.map((x) => `${x.holder}'s old card${x.card ? ` ${x.card}` : ''} is replaced: it is refused before its PIN is asked.`),
    ...(r.removed.length > 0 ? [`No longer holders: ${r.removed.join(', ')}.`] : []),
    ...(r.unretired.length > 0 ? [`Still holding their old share (removed when the card is next used): ${r.unretired.join(', ')}.`] : []),
    ...(r.needOldCards.length > 0 ? [`These backups were encrypted to the old escrow key and need cards of generation ${r.from}: ${r.needOldCards.join(', ')}.`] : []),
  ];
}
