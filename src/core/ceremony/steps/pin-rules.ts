// PIN rules shared by the ceremonies: a card PIN's, and the partition's own limits for its
// crypto-officer PIN.

/** The PIN every blank card leaves the issuer with (ISO 7816 transport PIN of the lab's cards). */
export const TRANSPORT_PIN = Buffer.from('1234');
export const CARD_PIN = { min: 6, max: 32 };

/** How long a new PIN may be, and what it is called in a refusal ("A card PIN has 6 to 32 characters"). */
export interface PinRules {
  min: number;
  max: number;
  what: string;
}

export const CARD_PIN_RULES: PinRules = { ...CARD_PIN, what: 'A card PIN' };

/**
 * The rules of the partition's crypto-officer PIN: the token's own limits (C_GetTokenInfo
 * ulMinPinLen and ulMaxPinLen, PKCS#11 v2.40 section 5.5), never fewer than one character.
 */
export function tokenPinRules(token: { minPinLength: number; maxPinLength: number }): PinRules {
  return { min: Math.max(1, token.minPinLength), max: token.maxPinLength, what: "This partition's crypto-officer PIN" };
}
