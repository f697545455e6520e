// Recovery of rotations a crash interrupted, from the intent log. At start: stopped while the cards
// were written, the rotation is rolled back (nothing changed on the partition; the old generation
// still works; the new records on the cards are ignored and may be written over); stopped after the
// anchor, it is finished. An SO rotation stopped around C_SetPIN needs a quorum of the new cards: the
// next SO login tries the new credential once and finishes the rotation, or, if the HSM refuses it
// (the process died inside C_SetPIN before the PIN changed), rolls it back. Such a rotation is
// believed only while the audit log shows its C_SetPIN begun and not yet settled.
import { type CardSetDescriptor, type Purpose, descriptorHash } from '../quorum/card-set';
import { confirmInForce, successionOf } from '../quorum/rotation-key';
import { CARDS_WRITING, ROTATE_INTENT, type RotateIntent, anchorChain, interruptedRotation } from '../quorum/trust';
import type { Intent } from '../store/intents';
import type { CeremonyContext } from './context';

const action: Record<Purpose, string> = { so: 'cardset.rotate.recover', backup: 'backupset.rotate.recover' };
const what: Record<Purpose, string> = { so: 'A rotation of the SO card set', backup: 'A change of the backup key set' };

const cardsOf = (data: RotateIntent): Map<number, string> => new Map(Object.entries(data.cards).map(([i, c]) => [Number(i), c]));

/** The audit entry an SO rotation appends just before C_SetPIN (outcome ok), and when C_SetPIN returns an error (failed). */
export const SET_PIN_ACTION = 'cardset.rotate.set-pin';

/**
 * Whether this terminal's audit log shows the SO rotation to `d` under way around C_SetPIN: its
 * C_SetPIN begun, and nothing since that settled it (finished, rolled back, refused, set aside).
 * The intent log is only a database row: set back to "inside the SO PIN change" after its rotation
 * was settled, it would have the HSM refuse that credential again and again, each refusal taken
 * for the one probe. The keyed audit log cannot be edited unnoticed (an SO login checks it first).
 */
function underWay(ctx: CeremonyContext, d: CardSetDescriptor): boolean {
  const target = `(serial ${d.partition.serial})`;
  const hash = descriptorHash(d);
  for (const e of ctx.audit.list(5000)) {
    if (e.target.endsWith(target) && e.details.descriptor === hash) return e.action === SET_PIN_ACTION && e.outcome === 'ok';
  }
  return false;
}

/**
 * An SO rotation the intent log says was interrupted around C_SetPIN, but that the audit log does
 * not show under way, is set aside (never probed, never finished from the intent log); returns
 * what officers are told, or null when there is none.
 */
export async function setAsideUnvouched(ctx: CeremonyContext, intent: Intent<RotateIntent>): Promise<string | null> {
  const d = intent.data.descriptor;
  if (intent.step === CARDS_WRITING || underWay(ctx, d)) return null;
  await ctx.audit.append({ actor: ctx.actor, action: action.so, target: `${d.partition.label} (serial ${d.partition.serial})`, outcome: 'refused', details: { set: d.set, generation: d.generation, descriptor: descriptorHash(d), step: intent.step, result: 'set aside: the audit log does not show its SO PIN change under way' } });
  ctx.intents.finish(intent, 'set-aside');
  return `The intent log holds a rotation of the SO card set of “${d.partition.label}” (generation ${d.generation}) interrupted around the change of the SO PIN, but this terminal's audit log does not show that change under way: it was settled before, or the database was altered. It is set aside, and its cards are not tried: generation ${intent.data.from.generation} is in force. Have the terminal's database checked.`;
}

/** Finishes or rolls back the interrupted rotations of `purpose`; returns what officers are told. */
export async function recoverRotations(ctx: CeremonyContext, purpose: Purpose): Promise<string[]> {
  const said: string[] = [];
  for (const intent of ctx.intents.unfinished<RotateIntent>(ROTATE_INTENT[purpose])) {
    const d = intent.data.descriptor;
    const label = `“${d.partition.label}”`;
    const aside = purpose === 'so' && (intent.step === 'so-pin-changing' || intent.step === 'so-pin-changed') ? await setAsideUnvouched(ctx, intent) : null;
    if (aside) {
      said.push(aside);
      continue;
    }
    let result: string;
    if (intent.step === CARDS_WRITING) {
      ctx.intents.finish(intent, 'rolled-back');
      ctx.store.abandon(d);
      result = 'rolled back while the cards were written';
      said.push(`${what[purpose]} of ${label} was interrupted while the cards were written. It was rolled back: generation ${intent.data.from.generation} is still in force; the cards may be written again.`);
    } else if (intent.step === 'anchored') {
      ctx.store.save(d, 'active', cardsOf(intent.data));
      ctx.intents.finish(intent, 'done');
      result = 'finished';
      said.push(`${what[purpose]} of ${label} was interrupted after it was recorded on the partition. It is finished: generation ${d.generation} is in force. Cards that still hold their old share are retired when next used.`);
    } else if (purpose === 'so' && intent.step === 'so-pin-changed') {
      said.push(`A rotation of the SO card set of ${label} was interrupted after the SO PIN was changed. Log in as SO with the cards of generation ${d.generation} to finish it.`);
      continue;
    } else if (purpose === 'so' && intent.step === 'so-pin-changing') {
      said.push(`A rotation of the SO card set of ${label} was interrupted inside the change of the SO PIN: nobody can know whether it took effect. The next SO login tries the cards of generation ${d.generation} once: it finishes the rotation, or, if the HSM refuses (one SO try, explained in the audit log), rolls it back so that generation ${intent.data.from.generation} logs in.`);
      continue;
    } else {
      said.push(`The intent log holds a change of a card set of ${label} at a step the terminal never records ("${intent.step}"). It is not used; have the terminal's database checked.`);
      continue;
    }
    await ctx.audit.append({ actor: ctx.actor, action: action[purpose], target: `${d.partition.label} (serial ${d.partition.serial})`, outcome: 'ok', details: { set: d.set, generation: d.generation, descriptor: descriptorHash(d), result } });
  }
  return said;
}

/**
 * After an SO login with the new generation's cards (`secret`, the credential the HSM just took): a
 * rotation interrupted around C_SetPIN is finished (its anchor written if missing, confirmed by the
 * new generation now that it is known to be in force).
 */
export async function finishInterruptedRotation(ctx: CeremonyContext, set: string, generation: number, cards: Map<number, string>, secret: Buffer): Promise<boolean> {
  const token = ctx.partition.partition();
  const intent = interruptedRotation(ctx.intents, 'so', token.serial);
  if (!intent || intent.data.descriptor.set !== set || intent.data.descriptor.generation !== generation) return false;
  const d = intent.data.descriptor;
  const chain = anchorChain(ctx.partition.anchors('so'), 'so', token.serial);
  const anchor = intent.data.anchor;
  if (!chain || chain.tip.generation < d.generation) ctx.partition.writeAnchor('so', { ...anchor, confirmation: confirmInForce(secret, successionOf('so', token.serial, anchor)) });
  const known = cardsOf(intent.data);
  for (const [index, card] of cards) known.set(index, card);
  ctx.store.save(d, 'active', known);
  ctx.intents.finish(intent, 'done');
  await ctx.audit.append({ actor: ctx.actor, action: action.so, target: `${token.label} (serial ${token.serial})`, outcome: 'ok', details: { set: d.set, generation: d.generation, descriptor: descriptorHash(d), result: 'finished with a quorum of the new generation' } });
  return true;
}

/**
 * The HSM refused the new credential of a rotation interrupted inside C_SetPIN: the PIN was never
 * changed. The rotation is rolled back; returns what officers are told (null when there was none).
 */
export async function rollBackInterruptedRotation(ctx: CeremonyContext, set: string, generation: number): Promise<string | null> {
  const token = ctx.partition.partition();
  const intent = interruptedRotation(ctx.intents, 'so', token.serial);
  if (!intent || intent.data.descriptor.set !== set || intent.data.descriptor.generation !== generation || intent.step !== 'so-pin-changing') return null;
  // One probe per attempt: an intent set back in the database to be probed again is not explained by it
  // (the SO login sets such an intent aside before any try, setAsideUnvouched; this is the second line).
  const hash = descriptorHash(intent.data.descriptor);
  if (ctx.audit.list(5000).some((e) => e.action === action.so && e.details.descriptor === hash && String(e.details.result).startsWith('rolled back: the SO PIN'))) return null;
  ctx.intents.finish(intent, 'rolled-back');
  ctx.store.abandon(intent.data.descriptor);
  await ctx.audit.append({ actor: ctx.actor, action: action.so, target: `${token.label} (serial ${token.serial})`, outcome: 'ok', details: { set, generation, descriptor: hash, result: 'rolled back: the SO PIN had not been changed (one SO try was spent to find out)' } });
  return `The rotation interrupted inside the change of the SO PIN had not changed it: that one refused try was the probe, and the rotation is rolled back. Generation ${intent.data.from.generation} is in force: log in with those cards.`;
}
