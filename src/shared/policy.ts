// The partition's security policy: the settings of the vendor's partition policy table (Securosys
// CloudHSM, "Partition Policy Settings": key import, key export, key invalidation, partition
// read-only, session objects, object destruction) and, per sensitive operation, how many distinct
// holders of the SO card set must approve it. Plain data: names as officers and the CLI write them,
// the words and risk of each setting, the side-by-side view of a change. Shared by core (which
// keeps and enforces it: src/core/policy/) and the window (which shows it).

/** The vendor's partition settings, on (true) or off (false). */
export interface PolicySettings {
  /** Keys may be brought into the partition, plain or wrapped (a restore). */
  'key-import': boolean;
  /** Keys may leave the partition, wrapped or plain (a backup). */
  'key-export': boolean;
  /** A delete only invalidates the key (the trash bin); officers reactivate or destroy it. */
  'key-invalidation': boolean;
  /** Keys may be used, but nothing is created, changed or deleted. */
  'read-only': boolean;
  /** Ephemeral (session) keys are allowed. */
  'session-objects': boolean;
  /** Objects may be destroyed at all; off: every delete fails. */
  'object-destruction': boolean;
}

export const SETTING_NAMES = ['key-import', 'key-export', 'key-invalidation', 'read-only', 'session-objects', 'object-destruction'] as const satisfies readonly (keyof PolicySettings)[];
export type SettingName = (typeof SETTING_NAMES)[number];

/** Operations whose approval quorum the policy sets: how many distinct SO-set holders approve. */
export const APPROVAL_NAMES = ['destroy', 'policy', 'co-pin-reset', 'restore'] as const;
export type ApprovalName = (typeof APPROVAL_NAMES)[number];

/**
 * The policy as recorded. An approval count of null means "the SO set's quorum (m)" (and for a
 * restore, which the backup set's own quorum guards: no SO approval at all).
 */
export interface PartitionPolicy {
  settings: PolicySettings;
  approvals: Record<ApprovalName, number | null>;
}

/**
 * What a partition without a recorded policy is held to: the vendor's defaults for a partition that
 * keeps keys (export, invalidation, session objects and destruction on, read-only off), with key
 * import on as well, since the terminal restores its own backups.
 */
export const DEFAULT_POLICY: PartitionPolicy = {
  settings: { 'key-import': true, 'key-export': true, 'key-invalidation': true, 'read-only': false, 'session-objects': true, 'object-destruction': true },
  approvals: { destroy: null, policy: null, 'co-pin-reset': null, restore: null },
};

/** Each setting in officers' words: what it is, and the risk of turning it on or off. */
export const SETTING_WORDS: Record<SettingName, { title: string; on: string; off: string; riskOn: string; riskOff: string }> = {
  'key-import': {
    title: 'Key import',
    on: 'Keys may be brought into the partition, plain or wrapped (a restore).',
    off: 'No key may be brought into the partition: no restore.',
    riskOn: 'Keys from outside (a backup, another HSM) can be placed in the partition.',
    riskOff: 'A lost key cannot be restored from a backup until import is turned on again.',
  },
  'key-export': {
    title: 'Key export',
    on: 'Keys marked extractable may leave the partition wrapped (a backup).',
    off: 'No key may leave the partition: no backup.',
    riskOn: 'Extractable keys can be copied out (wrapped) by anyone with the crypto-officer PIN.',
    riskOff: 'No backup can be made: a partition lost is lost with its keys.',
  },
  'key-invalidation': {
    title: 'Key invalidation',
    on: 'A delete only invalidates the key: it stays in the trash bin until officers reactivate or destroy it.',
    off: 'A delete destroys the key for good.',
    riskOn: 'Invalidated keys still take space and keep their label and id.',
    riskOff: 'A key deleted by mistake cannot be brought back.',
  },
  'read-only': {
    title: 'Partition read-only',
    on: 'Keys may be used, but nothing is created, changed or deleted.',
    off: 'Keys may be created, changed and deleted.',
    riskOn: 'No key can be generated, restored, invalidated or destroyed until it is turned off.',
    riskOff: 'The partition\'s keys can be changed by anyone with the crypto-officer PIN.',
  },
  'session-objects': {
    title: 'Session objects',
    on: 'Ephemeral keys (session objects) are allowed.',
    off: 'No ephemeral key is allowed: backups and restores, which wrap under an ephemeral key, are refused.',
    riskOn: 'Applications may create temporary keys that are never stored.',
    riskOff: 'Backups and restores cannot run.',
  },
  'object-destruction': {
    title: 'Object destruction',
    on: 'Objects may be destroyed (under the approvals the policy asks for).',
    off: 'Every delete fails: nothing is destroyed, nothing invalidated.',
    riskOn: 'Keys can be destroyed for good once the approvals are given.',
    riskOff: 'Invalidated keys stay in the trash bin; no key can be removed.',
  },
};

export const APPROVAL_WORDS: Record<ApprovalName, string> = {
  destroy: 'Destroy keys for good',
  policy: 'Change the partition policy',
  'co-pin-reset': "Reset the crypto officer's PIN",
  restore: 'Restore a backup',
};

/** The SO card set's threshold and size, which bound every approval count. */
export interface SetSize {
  m: number;
  n: number;
}

/**
 * How many distinct SO-set holders must approve `operation` under `policy` (0: no SO approval; only
 * a restore may need none). A recorded count outside the set's m..n (the set was rotated since) is
 * brought within it.
 */
export function approvalsNeeded(policy: PartitionPolicy, operation: ApprovalName, set: SetSize | null): number {
  const recorded = policy.approvals[operation];
  if (operation === 'restore' && (recorded === null || recorded === 0)) return 0;
  if (!set) return recorded ?? 0;
  return Math.min(set.n, Math.max(set.m, recorded ?? set.m));
}

/** One NAME=VALUE change as typed (`key-export=off`, `approvals.destroy=3`). */
export interface PolicyChange {
  name: SettingName | `approvals.${ApprovalName}`;
  value: boolean | number;
}

/** `policy` with `changes` applied (a new object). */
export function applyChanges(policy: PartitionPolicy, changes: PolicyChange[]): PartitionPolicy {
  const next: PartitionPolicy = { settings: { ...policy.settings }, approvals: { ...policy.approvals } };
  for (const c of changes) {
    if (c.name.startsWith('approvals.')) next.approvals[c.name.slice('approvals.'.length) as ApprovalName] = c.value as number;
    else next.settings[c.name as SettingName] = c.value as boolean;
  }
  return next;
}

/** One line of the side-by-side view: a setting now and proposed, in words, with the risk of the change. */
export interface PolicyLine {
  name: string;
  title: string;
  current: string;
  proposed: string;
  changed: boolean;
  /** The risk of the proposed value, when it changes. */
  risk: string | null;
}

/** The current and proposed policy side by side, one line per setting and approval count. */
export function sideBySide(current: PartitionPolicy, proposed: PartitionPolicy, set: SetSize | null): PolicyLine[] {
  const lines: PolicyLine[] = SETTING_NAMES.map((name) => {
    const w = SETTING_WORDS[name];
    const now = current.settings[name];
    const next = proposed.settings[name];
    return { name, title: w.title, current: now ? 'on' : 'off', proposed: next ? 'on' : 'off', changed: now !== next, risk: now !== next ? (next ? w.riskOn : w.riskOff) : null };
  });
  for (const a of APPROVAL_NAMES) {
    const now = approvalsNeeded(current, a, set);
    const next = approvalsNeeded(proposed, a, set);
    const words = (k: number): string => (k === 0 ? 'no SO approval' : `${k} of ${set?.n ?? '?'} SO holders`);
    lines.push({
      name: `approvals.${a}`,
      title: `Approvals: ${APPROVAL_WORDS[a].charAt(0).toLowerCase()}${APPROVAL_WORDS[a].slice(1)}`,
      current: words(now),
      proposed: words(next),
      changed: now !== next,
      risk: now === next ? null : next < now ? 'Fewer officers must agree: a smaller group can do it.' : 'More officers must be present each time: it may not be done when some are away.',
    });
  }
  return lines;
}

