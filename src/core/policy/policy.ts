// The partition policy's core half: NAME=VALUE changes parsed in officers' words, the digest of an
// exact change that approvers compare, and the shape check of a policy read from anywhere. The
// model itself (settings, words, side-by-side view) is shared with the window: src/shared/policy.ts.
import { createHash } from 'node:crypto';
import { APPROVAL_NAMES, type PartitionPolicy, type PolicyChange, SETTING_NAMES, type SetSize, type SettingName } from '../../shared/policy';
import { TesseraError } from '../errors';

export * from '../../shared/policy';

/**
 * Parses NAME=VALUE arguments (`key-export=off`, `approvals.destroy=3`) into changes, checked
 * against the set's size (checkChanges).
 * @throws TesseraError INVALID_REQUEST naming the argument.
 */
export function parseChanges(args: string[], set: SetSize | null): PolicyChange[] {
  const changes = args.map((arg): PolicyChange => {
    const at = arg.indexOf('=');
    const name = (at < 0 ? arg : arg.slice(0, at)).trim().toLowerCase();
    const value = at < 0 ? '' : arg.slice(at + 1).trim().toLowerCase();
    if ((SETTING_NAMES as readonly string[]).includes(name)) {
      if (!['on', 'off', 'true', 'false', 'yes', 'no'].includes(value)) throw new TesseraError('INVALID_REQUEST', `${name} is on or off, not “${value}”.`);
      return { name: name as SettingName, value: ['on', 'true', 'yes'].includes(value) };
    }
    if (name.startsWith('approvals.')) {
      if (!/^\d{1,2}$/.test(value)) throw new TesseraError('INVALID_REQUEST', `${name} is a number of holders, not “${value}”.`);
      return { name: name as PolicyChange['name'], value: Number(value) };
    }
    return { name: name as PolicyChange['name'], value: false };
  });
  return checkChanges(changes, set);
}

/**
 * Checks changes (from the CLI or the window): known names, on/off for settings, approval counts
 * within the set's m..n (0 allowed for a restore only: its backup set's quorum guards it), each
 * name once, at least one.
 * @throws TesseraError INVALID_REQUEST naming the setting.
 */
export function checkChanges(changes: PolicyChange[], set: SetSize | null): PolicyChange[] {
  const seen = new Set<string>();
  for (const c of changes) {
    const name = String(c.name);
    if (seen.has(name)) throw new TesseraError('INVALID_REQUEST', `“${name}” is given twice.`);
    seen.add(name);
    if ((SETTING_NAMES as readonly string[]).includes(name)) {
      if (typeof c.value !== 'boolean') throw new TesseraError('INVALID_REQUEST', `${name} is on or off.`);
      continue;
    }
    const approval = name.startsWith('approvals.') ? name.slice('approvals.'.length) : null;
    if (approval !== null && (APPROVAL_NAMES as readonly string[]).includes(approval)) {
      const count = c.value;
      const low = approval === 'restore' ? 0 : (set?.m ?? 1);
      const high = set?.n ?? 16;
      if (typeof count !== 'number' || !Number.isInteger(count) || count < low || count > high) {
        throw new TesseraError('INVALID_REQUEST', `${name} is how many distinct holders of the SO card set must approve: ${low === high ? low : `${low} to ${high}`}${set ? ` (the set is ${set.m} of ${set.n})` : ''}${approval === 'restore' ? '; 0 for none' : ''}, not “${String(count)}”.`);
      }
      continue;
    }
    throw new TesseraError('INVALID_REQUEST', `“${name}” is not a policy setting. Settings: ${SETTING_NAMES.join(', ')}, ${APPROVAL_NAMES.map((a) => `approvals.${a}`).join(', ')}.`);
  }
  if (changes.length === 0) throw new TesseraError('INVALID_REQUEST', 'Name at least one setting to change, e.g. key-export=off or approvals.destroy=3.');
  return changes;
}

/**
 * The short digest officers compare when they approve an exact change: SHA-256 of the change's
 * canonical JSON, its first 16 hex digits in groups of four ("3f2a 91c0 7be4 0d13").
 */
export function changeDigest(change: unknown): string {
  const hex = createHash('sha256').update(canonicalJson(change)).digest('hex').slice(0, 16);
  return hex.match(/.{4}/g)?.join(' ') ?? hex;
}

/** JSON with object keys sorted, so equal values give equal bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  return value;
}

/** Whether `value` is a well-formed policy (from a record anyone could have written). */
export function isPolicy(value: unknown): value is PartitionPolicy {
  if (!value || typeof value !== 'object') return false;
  const p = value as Partial<PartitionPolicy>;
  if (!p.settings || typeof p.settings !== 'object' || !p.approvals || typeof p.approvals !== 'object') return false;
  if (Object.keys(p.settings).length !== SETTING_NAMES.length || !SETTING_NAMES.every((n) => typeof (p.settings as unknown as Record<string, unknown>)[n] === 'boolean')) return false;
  if (Object.keys(p.approvals).length !== APPROVAL_NAMES.length) return false;
  return APPROVAL_NAMES.every((a) => {
    const v = (p.approvals as Record<string, unknown>)[a];
    return v === null || (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 16);
  });
}
