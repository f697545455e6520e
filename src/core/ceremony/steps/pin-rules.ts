// Card PIN rules shared by the ceremonies.

/** The PIN every blank card leaves the issuer with (ISO 7816 transport PIN of the lab's cards). */
export const TRANSPORT_PIN = Buffer.from('1234');
export const CARD_PIN = { min: 6, max: 32 };
