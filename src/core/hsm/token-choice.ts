// Which partition (token) an officer means: by label, by serial, or both. Labels repeat (every
// SmartCard-HSM token says "SmartCard-HSM"; two SoftHSM2 tokens may both be "Partition A") and may
// hold control characters, so every refusal lists the module's partitions by label and serial, and
// shows labels escaped. The serial (CK_TOKEN_INFO.serialNumber, PKCS#11 v2.40 §3.2) is what tells
// them apart.
import { escapeLabel } from '../../shared/label-text';
import type { TokenSummary } from '../../shared/types';
import { TesseraError } from '../errors';

/** What the officer named: a label, a serial, or both (both must name the same partition). */
export interface TokenCriteria {
  label?: string | undefined;
  serial?: string | undefined;
}

/**
 * How the front end names its two selectors in messages, e.g. the CLI's `--token LABEL` and
 * `--serial SERIAL`. Without it the messages say "by label" and "by serial".
 */
export interface SelectorNames {
  label: string;
  serial: string;
}

/** A label or serial as text for a message: in double quotes, control and format characters written as \n, \t or \u{…}. */
export function quoted(text: string): string {
  const escaped = text.replace(/[\\"]|\p{Cc}|\p{Cf}/gu, (c) => {
    if (c === '\\' || c === '"') return `\\${c}`;
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    return `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`;
  });
  return `"${escaped}"`;
}

/** A serial as it is when it is plain printable ASCII (as serials are), else quoted and escaped. */
function serialText(serial: string): string {
  return /^[\x21-\x7e]+$/.test(serial) ? serial : quoted(serial);
}

/** `"label" (serial S)`, for lists of choices. */
export function describeToken(token: Pick<TokenSummary, 'label' | 'serial'>): string {
  return `${quoted(token.label)} (serial ${serialText(token.serial)})`;
}

function choices(tokens: readonly TokenSummary[], uninitialised: number): string {
  if (tokens.length === 0) return emptyModule(uninitialised);
  return `This module's partitions: ${tokens.map(describeToken).join(', ')}.`;
}

/** The message for a module without any initialised partition. */
export function emptyModule(uninitialised: number): string {
  const waiting =
    uninitialised === 0 ? 'and no slot awaits initialisation' : uninitialised === 1 ? 'and 1 slot awaits initialisation' : `and ${uninitialised} slots await initialisation`;
  return `This module has no initialised partition (${waiting}): a partition must be initialised with the HSM's own tools first.`;
}

/**
 * The one partition among `tokens` that `criteria` names.
 * - serial only: the partition with that serial;
 * - label only: the partition with that label, refused when several share it (choose by serial);
 * - both: the partition with that serial, refused unless it carries that label;
 * - neither: the only partition of the module, refused when there are none or several.
 * @param uninitialised how many present slots hold a token not initialised yet (C_GetTokenInfo
 *   without CKF_TOKEN_INITIALIZED), said when the module has no partition
 * @throws TesseraError TOKEN_NOT_FOUND naming the choices by label and serial
 */
export function chooseToken<T extends TokenSummary>(tokens: readonly T[], uninitialised: number, criteria: TokenCriteria, names?: SelectorNames): T {
  const byLabel = names ? `with ${names.label}` : 'by label';
  const bySerial = names ? `with ${names.serial}` : 'by serial';
  const { label, serial } = criteria;
  if (serial !== undefined) {
    const found = tokens.filter((t) => t.serial === serial);
    if (found.length === 0) throw new TesseraError('TOKEN_NOT_FOUND', `No partition with serial ${serialText(serial)} is available through this module. ${choices(tokens, uninitialised)}`);
    if (found.length > 1) throw new TesseraError('TOKEN_NOT_FOUND', `More than one partition reports serial ${serialText(serial)}; the terminal cannot tell them apart. ${choices(tokens, uninitialised)}`);
    const token = found[0] as T;
    if (label !== undefined && token.label !== label) {
      throw new TesseraError('TOKEN_NOT_FOUND', `The partition with serial ${serialText(serial)} is labelled ${quoted(token.label)}, not ${quoted(label)}: the label and the serial name different partitions. ${choices(tokens, uninitialised)}`);
    }
    return token;
  }
  if (label !== undefined) {
    // Core shows labels escaped where they hold control characters (labelText): either form finds the partition.
    const found = tokens.filter((t) => t.label === label || t.label === escapeLabel(label));
    if (found.length === 0) throw new TesseraError('TOKEN_NOT_FOUND', `No partition labelled ${quoted(label)} is available through this module. ${choices(tokens, uninitialised)}`);
    if (found.length > 1) {
      throw new TesseraError('TOKEN_NOT_FOUND', `Several partitions are labelled ${quoted(label)}; choose one by serial ${bySerial}: ${found.map(describeToken).join(', ')}.`);
    }
    return found[0] as T;
  }
  if (tokens.length === 1) return tokens[0] as T;
  if (tokens.length === 0) throw new TesseraError('TOKEN_NOT_FOUND', emptyModule(uninitialised));
  throw new TesseraError('TOKEN_NOT_FOUND', `Choose a partition ${byLabel} or ${bySerial}. ${choices(tokens, uninitialised)}`);
}
