// The ceremony registry's public half: one entry per ceremony kind with its start request (a schema, built at first use),
// who must be logged in before it may start, its title and steps, and the section of the GUI that
// shows it. The contract's `ceremony:start` schema, the CLI's commands and the GUI's choice of
// panel all come from here; core's half (src/core/ceremony/registry.ts) adds how each one runs,
// recovers and sums up, keyed by the same kinds, so a kind declared here without a runner (or the
// other way round) is a type error.
import { z } from 'zod';

const path = () => z.string().min(1).max(4096);
// Shape only: core names what is wrong with the names themselves (blank, repeated) in officers' words.
const holders = () => z.array(z.string().max(64)).min(1).max(16);
const threshold = () => z.number().int().min(1).max(16);
/** A backup set's fingerprint as typed from its enrolment record (the CLI's --trust-set); core compares it. */
const trustSet = () => z.string().max(128).optional();

/**
 * Who must be logged in before a ceremony starts (checked before any card or PIN is asked for):
 * `crypto-officer`: the crypto officer (backups read, restores write private objects);
 * `nobody`: neither role (adoption and SO login need the partition's one login for the SO);
 * `any`: it does not touch the partition's login.
 */
export type LoginNeed = 'crypto-officer' | 'nobody' | 'any';

/** Where the GUI shows the ceremony. */
export type CeremonySection = 'cards' | 'backup' | 'credentials' | 'keys' | 'policy';

const setPurpose = () => z.enum(['so', 'backup']);
/** The steps of a rotation (a new generation of a set): the SO set changes the SO PIN, the backup set records it. */
const soRotationSteps = ['Before you start', 'SO quorum', 'New generation on the cards', 'Change the SO PIN', 'Retire the old generation', 'Done'] as const;
const backupRotationSteps = ['Before you start', 'Backup-set quorum', 'New generation on the cards', 'Record it on the partition', 'Retire the old generation', 'Done'] as const;
const holderName = () => z.string().min(1).max(64);
/** A key's CKA_ID in lowercase hex (a key pair counts once). */
const keyId = () => z.string().regex(/^([0-9a-f]{2}){1,128}$/);
/** A policy change as the window and the CLI send it; core checks names and ranges in officers' words. */
const policyChange = () => z.object({ name: z.string().min(1).max(64), value: z.union([z.boolean(), z.number().int().min(0).max(16)]) }).strict();

export const ceremonyKinds = {
  adopt: {
    start: () => z.object({ kind: z.literal('adopt'), holders: holders(), threshold: threshold() }).strict(),
    login: 'nobody',
    section: 'cards',
    title: 'Adopt the partition and enrol a card set',
    steps: ['Current SO PIN', "Officers' cards", 'Change the SO PIN', 'Done'],
  },
  'so-login': {
    start: () => z.object({ kind: z.literal('so-login') }).strict(),
    login: 'nobody',
    section: 'cards',
    title: 'Security-officer login',
    steps: ["Officers' cards", 'Check the credential', 'Log in'],
  },
  'so-acknowledge': {
    start: () => z.object({ kind: z.literal('so-acknowledge') }).strict(),
    login: 'any',
    section: 'cards',
    title: 'Acknowledge a refused SO login',
    steps: ['The refused login', 'Acknowledge', 'Done'],
  },
  'check-card': {
    start: () => z.object({ kind: z.literal('check-card') }).strict(),
    login: 'any',
    section: 'cards',
    title: 'Check a card',
    steps: ['Insert the card', 'Card PIN', 'Report'],
  },
  'change-pin': {
    start: () => z.object({ kind: z.literal('change-pin') }).strict(),
    login: 'any',
    section: 'cards',
    title: 'Change a card PIN',
    steps: ['Insert the card', 'Current PIN', 'New PIN', 'Done'],
  },
  'reset-card': {
    start: () => z.object({ kind: z.literal('reset-card') }).strict(),
    login: 'any',
    section: 'cards',
    title: 'Make an interrupted card blank again',
    steps: ['Insert the card', 'Card PIN', 'Blank again'],
  },
  'backup-set': {
    start: () => z.object({ kind: z.literal('backup-set'), holders: holders(), threshold: threshold() }).strict(),
    login: 'crypto-officer',
    section: 'backup',
    title: 'Create the backup key set',
    steps: ['Backup-signing key', "Officers' cards", 'Done'],
  },
  backup: {
    start: () => z.object({ kind: z.literal('backup'), media: path(), trustSet: trustSet() }).strict(),
    login: 'crypto-officer',
    section: 'backup',
    title: 'Back up the partition',
    steps: ['Check the partition', 'Confirm', 'Write the backup', 'Read back and verify', 'Done'],
  },
  restore: {
    start: () =>
      z
      .object({
        kind: z.literal('restore'),
        file: path(),
        only: z.array(z.string().regex(/^[0-9a-f]{0,512}$/)).max(100_000).optional(),
        onConflict: z.enum(['skip', 'replace', 'ask']).optional(),
        trustSet: trustSet(),
      })
      .strict(),
    login: 'crypto-officer',
    section: 'backup',
    title: 'Restore a backup',
    steps: ['Verify the backup', 'Approve the backup set', 'Backup-set cards', 'Choose objects', 'Restore and check', 'Done'],
  },
  'backup-list': {
    start: () => z.object({ kind: z.literal('backup-list'), file: path() }).strict(),
    login: 'any',
    section: 'backup',
    title: "Read a backup's contents",
    steps: ['Verify the backup', 'Backup-set cards', 'Contents'],
  },
  'co-pin-reset': {
    start: () => z.object({ kind: z.literal('co-pin-reset') }).strict(),
    login: 'nobody',
    section: 'credentials',
    title: "Reset the crypto officer's PIN",
    steps: ['Before you start', 'SO quorum', 'New PIN', 'Reset', 'Done'],
  },
  'so-rotate': {
    start: () => z.object({ kind: z.literal('so-rotate'), holders: holders().optional(), threshold: threshold().optional() }).strict(),
    login: 'nobody',
    section: 'credentials',
    title: 'Rotate the SO credential',
    steps: soRotationSteps,
  },
  'so-replace-card': {
    start: () => z.object({ kind: z.literal('so-replace-card'), holder: holderName() }).strict(),
    login: 'nobody',
    section: 'credentials',
    title: 'Replace a lost or compromised SO card',
    steps: soRotationSteps,
  },
  'backup-set-rotate': {
    start: () => z.object({ kind: z.literal('backup-set-rotate'), holders: holders().optional(), threshold: threshold().optional(), newEscrowKey: z.boolean().optional() }).strict(),
    login: 'crypto-officer',
    section: 'credentials',
    title: 'Re-split or rotate the backup key set',
    steps: backupRotationSteps,
  },
  'backup-replace-card': {
    start: () => z.object({ kind: z.literal('backup-replace-card'), holder: holderName() }).strict(),
    login: 'crypto-officer',
    section: 'credentials',
    title: 'Replace a lost or compromised backup-set card',
    steps: backupRotationSteps,
  },
  'key-reactivate': {
    start: () => z.object({ kind: z.literal('key-reactivate'), id: keyId() }).strict(),
    login: 'crypto-officer',
    section: 'keys',
    title: 'Reactivate an invalidated key',
    steps: ['The key', 'SO quorum', 'Reactivate', 'Done'],
  },
  'key-destroy': {
    start: () => z.object({ kind: z.literal('key-destroy'), ids: z.array(keyId()).min(1).max(1000) }).strict(),
    login: 'crypto-officer',
    section: 'keys',
    title: 'Destroy keys for good',
    steps: ['The keys', 'Approvals', 'Destroy', 'Done'],
  },
  'policy-set': {
    start: () => z.object({ kind: z.literal('policy-set'), changes: z.array(policyChange()).min(1).max(20) }).strict(),
    login: 'nobody',
    section: 'policy',
    title: 'Change the partition policy',
    steps: ['Current and proposed', 'Approvals', 'Record the policy', 'Done'],
  },
  'roll-call': {
    start: () => z.object({ kind: z.literal('roll-call'), set: setPurpose() }).strict(),
    login: 'any',
    section: 'credentials',
    title: 'Roll call of a card set',
    steps: ['Before you start', "Every holder's card", 'Report'],
  },
} as const satisfies Record<string, { start: () => z.ZodObject; login: LoginNeed; section: CeremonySection; title: string; steps: readonly string[] }>;

export type CeremonyKind = keyof typeof ceremonyKinds;

type StartSchemas = { [K in CeremonyKind]: ReturnType<(typeof ceremonyKinds)[K]['start']> };

function buildCeremonyStart() {
  const starts = Object.values(ceremonyKinds).map((k) => k.start()) as StartSchemas[CeremonyKind][];
  return z.discriminatedUnion('kind', starts as unknown as [StartSchemas['adopt'], ...StartSchemas[CeremonyKind][]]);
}
let ceremonyStartBuilt: ReturnType<typeof buildCeremonyStart> | null = null;

/**
 * The `ceremony:start` request: any kind's start schema. Built at its first use, not when the
 * registry loads: zod builds a schema in tens of microseconds, and the registry's twenty-odd cost
 * every `tessera` command ~10 ms that most of them never parse a start request with.
 */
export function ceremonyStart(): ReturnType<typeof buildCeremonyStart> {
  return (ceremonyStartBuilt ??= buildCeremonyStart());
}
export type CeremonyStart = z.infer<ReturnType<typeof buildCeremonyStart>>;

/**
 * Why `kind` cannot start with the partition's logins as they are, in officers' words; null when it
 * can. The one rule: the host refuses a start with it, and the GUI says it on the form beforehand.
 */
export function loginProblem(kind: CeremonyKind, logins: { cryptoOfficer: boolean; securityOfficer: boolean }): string | null {
  const need = ceremonyKinds[kind].login;
  const what = ceremonyKinds[kind].title.toLowerCase();
  if (need === 'crypto-officer' && !logins.cryptoOfficer) return `Log in to the partition as crypto officer first (Partition): to ${what}, the terminal reads and writes the partition's private objects.`;
  if (need === 'nobody' && logins.securityOfficer) return `A security officer is logged in already. End the SO session first, then ${what}.`;
  if (need === 'nobody' && logins.cryptoOfficer) return `The crypto officer is logged in. Log out first (Partition): the partition allows one login at a time, and to ${what} the terminal logs in as security officer.`;
  return null;
}
export type CeremonyStartOf<K extends CeremonyKind> = Extract<CeremonyStart, { kind: K }>;
