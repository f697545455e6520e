// Checking one card without logging in: which set, holder, index and generation it holds, whether
// it belongs to the chosen partition's current set, its remaining PIN tries, and (with its PIN)
// whether the PIN is right and the sealed share opens and is the one enrolled.
import type { CardReport, CeremonyResult } from '../../shared/types';
import { wipe } from '../secrets';
import { openShare, parseRecord, refusal } from '../quorum/card-record';
import type { QuorumContext } from '../quorum/quorum-context';
import { Ceremony } from './ceremony';

export class CardCheckCeremony extends Ceremony {
  constructor(private readonly ctx: QuorumContext) {
    const p = ctx.partition.partition();
    super(ctx.readers, 'check-card', 'Check a card', { label: p.label, serial: p.serial }, ['Insert the card', 'Card PIN', 'Report']);
  }

  protected async run(): Promise<CeremonyResult> {
    const presented = await this.nextCard({ kind: 'insert-card', text: 'Insert the card to check.' });
    try {
      const { card, reader } = presented;
      const serial = await card.serial();
      const frame = await card.readSlot('so');
      const record = parseRecord(frame);
      const token = this.ctx.partition.partition();
      const trust = this.ctx.trust();
      const problem = trust ? refusal(record, frame, serial, trust.trusted, token.serial) : record ? 'The chosen partition has no card set to compare with.' : refusal(record, frame, serial, { set: '', generation: 0, descriptorHash: '' }, token.serial);
      const d = record?.descriptor;
      const report: CardReport = {
        card: serial,
        reader,
        blank: frame.state === 'empty' || serial === null,
        holder: record?.holder ?? null,
        index: record?.index ?? null,
        set: d?.set ?? null,
        generation: d?.generation ?? null,
        m: d?.m ?? null,
        n: d?.n ?? null,
        partition: d?.partition ?? null,
        current: trust !== null && problem === null,
        problem,
        pinCorrect: null,
        shareIntact: null,
        triesLeft: serial ? await card.pinTriesLeft() : null,
      };
      if (record && serial) {
        this.stepTo(1);
        const { pin } = await this.pinFor({ kind: 'enter-pin', text: `${record.holder}: type your card PIN to check it and the sealed share.`, holder: record.holder, reader, triesLeft: report.triesLeft });
        try {
          const result = await openShare(card, record, pin, 'so');
          report.pinCorrect = !('wrongPin' in result);
          report.shareIntact = 'share' in result;
          if ('share' in result) wipe(result.share);
          if ('refused' in result) report.problem ??= result.refused;
          if ('wrongPin' in result) report.triesLeft = result.triesLeft;
        } finally {
          wipe(pin);
        }
      }
      this.stepTo(2);
      await this.ctx.audit.append({
        actor: this.ctx.actor,
        action: 'card.check',
        target: serial ? `card ${serial}` : 'blank card',
        outcome: 'ok',
        details: { holder: report.holder, set: report.set, generation: report.generation, current: report.current, pinCorrect: report.pinCorrect, shareIntact: report.shareIntact },
      });
      return { kind: 'check-card', report };
    } finally {
      await presented.session.close();
    }
  }

  protected wipeSecrets(): void {
    // The check holds no secret beyond the PIN, which is wiped where it is used.
  }
}
