// The partition's own record of its card sets: a public, unmodifiable data object on the token,
// so that a terminal without its database can tell the partition's cards from anyone else's.
// The partition keeps it; what it means (and whether it is to be believed) is the card sets' business.
import type { Session } from '../hsm/session';

/** What a card set is for: the SO credential, or the backup escrow key. */
export type Purpose = 'so' | 'backup';

export const ANCHOR_APPLICATION = 'Tessera';

export interface Anchor {
  set: string;
  generation: number;
  descriptor: string;
  /** A backup set's whole descriptor (public facts, as JSON), so a terminal without its records can make backups. */
  full?: unknown;
}

export function anchorLabel(purpose: Purpose): string {
  return `Tessera card set (${purpose})`;
}

/** Every well-formed anchor of this purpose on the partition (more than one is itself an alarm). */
export function readAnchors(session: Session, purpose: Purpose): Anchor[] {
  const anchors: Anchor[] = [];
  for (const value of session.readPublicData(ANCHOR_APPLICATION, anchorLabel(purpose))) {
    try {
      const parsed = JSON.parse(value.toString('utf8')) as Partial<Anchor>;
      if (typeof parsed.set === 'string' && Number.isInteger(parsed.generation) && typeof parsed.descriptor === 'string') {
        anchors.push({ set: parsed.set, generation: parsed.generation as number, descriptor: parsed.descriptor, ...(parsed.full ? { full: parsed.full } : {}) });
      }
    } catch {
      // not an anchor this terminal wrote; ignored like any other data object
    }
  }
  return anchors;
}

export function writeAnchor(session: Session, purpose: Purpose, anchor: Anchor): void {
  session.createPublicData(ANCHOR_APPLICATION, anchorLabel(purpose), Buffer.from(JSON.stringify(anchor)));
}
