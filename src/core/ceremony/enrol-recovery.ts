// Recovery of enrolments a crash interrupted (adoption, backup-set creation), from the intent log.
// At start: stopped while cards were written, the enrolment is rolled back (the partition is as it
// was; the cards may be enrolled again); stopped after its anchor was written, it is finished.
// An adoption stopped around C_SetPIN needs a quorum of the new cards: it stays pending, and the
// next SO login finishes it (or, if the HSM refuses the new credential, rolls it back).
import type { CardSetDescriptor, Purpose } from '../quorum/card-set';
import { CARDS_WRITING, ENROL_INTENT, type EnrolIntent, cardsOf, firstAnchor, interruptedEnrolment } from '../quorum/trust';
import type { CeremonyContext } from './context';

const words: Record<Purpose, { what: string; action: string; again: string }> = {
  so: { what: 'An enrolment', action: 'cardset.enrol.recover', again: 'the partition is as it was' },
  backup: { what: 'Creating the backup key set', action: 'backupset.create.recover', again: 'create it again (its cards can be reused)' },
};

/** Finishes or rolls back the interrupted enrolments of `purpose`; returns what officers are told. */
export async function recoverEnrolments(ctx: CeremonyContext, purpose: Purpose): Promise<string[]> {
  const said: string[] = [];
  const w = words[purpose];
  for (const intent of ctx.intents.unfinished<EnrolIntent>(ENROL_INTENT[purpose])) {
    const d = intent.data.descriptor;
    const target = `${d.partition.label} (serial ${d.partition.serial})`;
    let result: string;
    if (intent.step === CARDS_WRITING) {
      ctx.intents.finish(intent, 'rolled-back');
      ctx.store.abandon(d);
      result = purpose === 'so' ? 'rolled back before the SO PIN was changed' : 'rolled back';
      said.push(`${w.what} of "${d.partition.label}" was interrupted${purpose === 'so' ? ' before the SO PIN was changed' : ''}. It was rolled back${purpose === 'so' ? ':' : ';'} ${w.again}.`);
    } else if (intent.step === 'anchored') {
      ctx.store.save(d, 'active', cardsOf(intent.data));
      ctx.intents.finish(intent, 'done');
      result = 'finished';
      said.push(`${w.what} of "${d.partition.label}" was interrupted after it was recorded on the partition. It is finished.`);
    } else if (purpose === 'so') {
      said.push(`An enrolment of "${d.partition.label}" was interrupted while the SO PIN was being changed. Log in as SO with the new cards to finish it.`);
      continue;
    } else {
      // A backup-set creation writes no step between its cards and its anchor: this one is not ours.
      said.push(`The intent log holds a creation of the backup key set of "${d.partition.label}" at a step the terminal never records ("${intent.step}"). It is not used; have the terminal's database checked.`);
      continue;
    }
    await ctx.audit.append({ actor: ctx.actor, action: w.action, target, outcome: 'ok', details: { set: d.set, result } });
  }
  return said;
}

/** After an SO login with the new cards: an adoption interrupted around C_SetPIN is finished. */
export async function finishInterruptedAdoption(ctx: CeremonyContext, descriptor: CardSetDescriptor, cards: Map<number, string>): Promise<void> {
  const intent = interruptedEnrolment(ctx.intents, 'so', descriptor.partition.serial);
  if (!intent || intent.data.descriptor.set !== descriptor.set) return;
  if (ctx.partition.anchors('so').length === 0) ctx.partition.writeAnchor('so', firstAnchor(descriptor));
  const known = cardsOf(intent.data);
  for (const [index, card] of cards) known.set(index, card);
  ctx.store.save(descriptor, 'active', known);
  ctx.intents.finish(intent, 'done');
  await ctx.audit.append({ actor: ctx.actor, action: 'cardset.enrol.recover', target: `${descriptor.partition.label} (serial ${descriptor.partition.serial})`, outcome: 'ok', details: { set: descriptor.set, result: 'finished with a quorum of the new cards' } });
}

/**
 * The HSM refused the new credential of an adoption interrupted around C_SetPIN: the PIN was never
 * changed. The adoption is rolled back; returns what officers are told (null when there was none).
 */
export async function rollBackInterruptedAdoption(ctx: CeremonyContext, descriptor: CardSetDescriptor): Promise<string | null> {
  const intent = interruptedEnrolment(ctx.intents, 'so', descriptor.partition.serial);
  if (!intent || intent.data.descriptor.set !== descriptor.set || intent.step !== 'so-pin-changing') return null;
  ctx.intents.finish(intent, 'rolled-back');
  ctx.store.abandon(descriptor);
  await ctx.audit.append({ actor: ctx.actor, action: 'cardset.enrol.recover', target: `${descriptor.partition.label} (serial ${descriptor.partition.serial})`, outcome: 'ok', details: { set: descriptor.set, result: 'rolled back: the SO PIN had not been changed' } });
  return "The interrupted enrolment had not changed the SO PIN yet: it is rolled back, and the partition's previous SO PIN still works. Adopt the partition again.";
}
