// A roll call: every holder of a card set proves their card in one ceremony (the card's PIN, its
// sealed share opened and checked against the set, its generation the one in force), and the report
// names who is missing and whose card is stale. Proof that all n holders, not just m, can still open
// their share (hashicorp/vault#8278). Nothing is changed on the partition; a card whose next
// generation is in force has its old one retired, as at any use.
import type { CeremonyStartOf } from '../../shared/ceremonies';
import type { CeremonyResult, RollCallLine } from '../../shared/types';
import { TesseraError } from '../errors';
import { type CardRecord, openShare, refusal } from '../quorum/card-record';
import { type CardSetDescriptor, combineShares, commitment, descriptorHash, matches } from '../quorum/card-set';
import { wipe } from '../secrets';
import type { CeremonyContext, RunOptions } from './context';
import { CeremonyCancelled, type CeremonyRun } from './run';
import { cardName, cardProblem, identify, retireOldGeneration } from './steps/cards';
import { briefing } from './steps/confirm';
import { withCardPin } from './steps/pin';
import { replacedWords } from './steps/rotate-cards';

const setWords = { so: 'SO card set', backup: 'backup key set' } as const;

/**
 * Before any card: the partition has such a set, and it is decided which generation is in force.
 * While a change around C_SetPIN is undecided, cards of the new generation would be reported
 * proved for a generation the next SO login may roll back.
 */
export function precheckRollCall(ctx: CeremonyContext, start: CeremonyStartOf<'roll-call'>): void {
  const trust = ctx.trust(start.set);
  if (!trust) throw new TesseraError('INVALID_REQUEST', `This partition has no ${setWords[start.set]} to call the roll of.`);
  if (trust.source === 'interrupted') throw new TesseraError('INVALID_REQUEST', `A change of the ${setWords[start.set]} was interrupted while the SO PIN was being changed: which generation is in force is not known yet. Log in as SO with the new cards first (that finishes it, or rolls it back), then call the roll.`);
}

export async function rollCall(run: CeremonyRun, ctx: CeremonyContext, start: CeremonyStartOf<'roll-call'>, options: RunOptions): Promise<Extract<CeremonyResult, { kind: 'roll-call' }>> {
  const purpose = start.set;
  const trust = ctx.trust(purpose);
  if (!trust) throw new TesseraError('INVALID_REQUEST', `This partition has no ${setWords[purpose]} to call the roll of.`);
  const token = ctx.partition.partition();
  const trusted = trust.trusted;
  let descriptor: CardSetDescriptor | null = trust.descriptor;
  const lines = new Map<number, RollCallLine>();
  const shares = new Map<number, Buffer>();
  const stale = new Map<string, string>();
  const known = (d: CardSetDescriptor): void => {
    for (const h of d.holders) if (!lines.has(h.index)) lines.set(h.index, { index: h.index, holder: h.holder, card: ctx.store.cards(d.set, d.generation).find((c) => c.index === h.index)?.cardSerial ?? null, status: 'missing', detail: null });
  };
  if (descriptor) known(descriptor);
  try {
    run.stepTo(0);
    const names = descriptor ? descriptor.holders.map((h) => h.holder).join(', ') : 'the set';
    await briefing(run, [`Roll call of the ${setWords[purpose]} of “${token.label}” (generation ${trusted.generation}): every holder (${names}) presents their card and types its PIN; each share is opened and checked.`, 'No blank card is needed, and nothing stops working.', 'Officers may finish at any time: whoever has not come is reported missing.'].join('\n'));
    run.stepTo(1);
    if (descriptor) run.needs(descriptor.n);
    for (;;) {
      const waiting = [...lines.values()].filter((l) => l.status !== 'proved').map((l) => l.holder);
      if (descriptor && waiting.length === 0) break;
      const presented = await run.nextCardOrFinish({ kind: 'insert-card', text: `${waiting.length > 0 ? waiting.join(', ') : 'Every holder'}: insert your card.`, finishLabel: 'Finish the roll call with the cards read' });
      if (!presented) break;
      let name = 'This card';
      try {
        const id = await identify(presented.card);
        name = cardName(id);
        const slot = id.slots[purpose];
        const useNext = slot.next !== null && slot.next.descriptor.set === trusted.set && slot.next.descriptor.generation === trusted.generation;
        const record: CardRecord | null = useNext ? slot.next : slot.record;
        if (!record || !id.serial) {
          run.notice('warning', `${name}: it holds no share of the ${setWords[purpose]}.`);
          continue;
        }
        const refused = refusal(record, useNext ? { state: 'ok', body: Buffer.alloc(0) } : slot.frame, id.serial, trusted, token.serial);
        if (refused) {
          const older = record.descriptor.set === trusted.set && record.descriptor.generation < trusted.generation;
          const words = (older ? replacedWords(ctx)(record, id.serial) : null) ?? refused;
          if (older) stale.set(record.holder.toLowerCase(), `${words} (card ${id.serial})`);
          run.notice('warning', `${name}: ${words}`);
          continue;
        }
        if (!descriptor) {
          descriptor = record.descriptor;
          known(descriptor);
          run.needs(descriptor.n);
        }
        const line = lines.get(record.index);
        if (!line || line.status === 'proved') {
          run.notice('warning', `${name}: already read.`);
          continue;
        }
        let opened: Awaited<ReturnType<typeof openShare>> | null = null;
        try {
          const share = await withCardPin(run, presented.card, { holder: record.holder, reader: presented.reader, text: `${record.holder}: type your card PIN.`, retry: options.retryWrongPin }, async (pin) => {
            const result = await openShare(presented.card, record, pin, purpose);
            if ('refused' in result) opened = result;
            return 'refused' in result ? null : 'share' in result ? result.share : result;
          });
          if (share) {
            shares.set(record.index, share);
            lines.set(record.index, { ...line, card: id.serial, status: 'proved', detail: null });
            if (useNext && trust.source !== 'interrupted') await retireOldGeneration(presented.card, purpose, record);
            run.collect(record.holder, record.index, id.serial);
            run.notice('info', `${record.holder}'s card is proved (PIN, share, generation ${record.descriptor.generation}). Take the card out.`);
          } else {
            const why = opened && 'refused' in opened ? (opened as { refused: string }).refused : 'the card is blocked, or its PIN was not given.';
            lines.set(record.index, { ...line, card: id.serial, status: 'failed', detail: why });
          }
        } catch (error) {
          if (!(error instanceof TesseraError) || error.code !== 'PIN_INCORRECT') throw error;
          lines.set(record.index, { ...line, card: id.serial, status: 'failed', detail: error.message.replace(/ Stopped there:.*$/, '') });
        }
      } catch (error) {
        if (error instanceof CeremonyCancelled) throw error;
        const problem = cardProblem(error, 'taken out before it was read. Insert it again.');
        run.notice('warning', `${name}: ${problem.text}`, problem.detail);
      } finally {
        await presented.session.close();
      }
    }
    if (!descriptor) throw new TesseraError('CARD_ERROR', `No card of the ${setWords[purpose]} was presented: nobody is proved.`);
    run.stepTo(2);
    const d = descriptor;
    let quorumChecked = false;
    if (shares.size >= d.m) {
      const ordered = [...shares.entries()].sort(([a], [b]) => a - b).map(([, s]) => s);
      const secret = await combineShares(ordered, d.m);
      quorumChecked = matches(d.commitment, commitment(d.set, d.generation, secret)) && matches(trusted.descriptorHash, descriptorHash(d));
      wipe(secret);
      if (!quorumChecked) throw new TesseraError('CARD_ERROR', "The proved cards do not rebuild the set's secret: the set's records were altered.");
    }
    const holders = [...lines.values()].sort((a, b) => a.index - b.index).map((l) => (l.status === 'missing' && stale.has(l.holder.toLowerCase()) ? { ...l, status: 'stale' as const, detail: stale.get(l.holder.toLowerCase()) ?? null } : l));
    const report = {
      purpose,
      partition: { label: token.label, serial: token.serial },
      set: d.set,
      generation: d.generation,
      m: d.m,
      n: d.n,
      holders,
      missing: holders.filter((l) => l.status === 'missing').map((l) => l.holder),
      stale: holders.filter((l) => l.status === 'stale').map((l) => l.holder),
      quorumChecked,
    };
    const proved = holders.filter((l) => l.status === 'proved');
    await ctx.audit.append({ actor: ctx.actor, action: purpose === 'so' ? 'cardset.roll-call' : 'backupset.roll-call', target: `${token.label} (serial ${token.serial})`, outcome: 'ok', details: { set: d.set, generation: d.generation, proved: proved.map((l) => `${l.holder}=${l.card}`).join(', ') || null, missing: report.missing.join(', ') || null, stale: report.stale.join(', ') || null, failed: holders.filter((l) => l.status === 'failed').map((l) => l.holder).join(', ') || null, quorumChecked } });
    return { kind: 'roll-call', report };
  } finally {
    for (const s of shares.values()) wipe(s);
  }
}
