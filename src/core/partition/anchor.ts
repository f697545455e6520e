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
  /** The generation's rotation key (Ed25519, raw, base64): it endorses the next generation's anchor. */
  rotationKey?: string;
  /** A generation after the first: the descriptor hash of the generation it follows. */
  previous?: string;
  /** A generation after the first: the previous generation's rotation-key signature over this one (base64). */
  endorsement?: string;
  /** A generation after the first: its own rotation-key signature, made once it was in force (base64). */
  confirmation?: string;
}

export function anchorLabel(purpose: Purpose): string {
  return `Tessera card set (${purpose})`;
}

/**
 * Every well-formed anchor of this purpose on the partition: one per generation of the set, each
 * after the first endorsed by the one before (quorum/trust.ts decides which to believe).
 */
export function readAnchors(session: Session, purpose: Purpose): Anchor[] {
  const anchors: Anchor[] = [];
  for (const value of session.readPublicData(ANCHOR_APPLICATION, anchorLabel(purpose))) {
    try {
      const parsed = JSON.parse(value.toString('utf8')) as Partial<Anchor>;
      if (typeof parsed.set === 'string' && Number.isInteger(parsed.generation) && typeof parsed.descriptor === 'string') {
        const text = (key: 'rotationKey' | 'previous' | 'endorsement' | 'confirmation'): Partial<Anchor> => (typeof parsed[key] === 'string' ? { [key]: parsed[key] } : {});
        anchors.push({ set: parsed.set, generation: parsed.generation as number, descriptor: parsed.descriptor, ...(parsed.full ? { full: parsed.full } : {}), ...text('rotationKey'), ...text('previous'), ...text('endorsement'), ...text('confirmation') });
      }
    } catch {
      // not an anchor this terminal wrote; ignored like any other data object
    }
  }
  return anchors;
}

/** What the token let the anchor be: unmodifiable and undestroyable, or less (then said in the audit log). */
export interface AnchorProtection {
  modifiable: boolean;
  destroyable: boolean;
}

/**
 * Writes the anchor, unmodifiable and (where the token allows) undestroyable. It is still only a
 * public object that anyone with a session could have written beside it: readers never trust it
 * alone (quorum/trust.ts, docs/trust-model.md).
 */
export function writeAnchor(session: Session, purpose: Purpose, anchor: Anchor): AnchorProtection {
  return session.createPublicData(ANCHOR_APPLICATION, anchorLabel(purpose), Buffer.from(JSON.stringify(anchor)));
}

/** The audit log's words for an anchor's protection. */
export function protectionWords(p: AnchorProtection): string {
  if (!p.modifiable && !p.destroyable) return 'unmodifiable, undestroyable';
  return `${p.modifiable ? 'MODIFIABLE' : 'unmodifiable'}, ${p.destroyable ? 'DESTROYABLE (the token does not support CKA_DESTROYABLE false)' : 'undestroyable'}`;
}
