// The shape of a ceremony script as officers write it (YAML, keys in kebab-case), as zod schemas
// whose messages are officers' words. Only what one value or one object can say is checked here;
// who is on the roster and holds which card is checked across the script in script-roster.ts.
// The step parameters mirror the start schemas of src/shared/ceremonies.ts.
import { z } from 'zod';
import { SCRIPT_OPERATION_NAMES, type OfficerRole, type ScriptOperationName } from '../../shared/ceremony-script';
import { APPROVAL_NAMES, SETTING_NAMES } from '../../shared/policy';
import { UNPRINTABLE } from '../quorum/card-set';

/** Longest title, name, expectation or path; a manual step's text may be longer. */
const MAX_LINE = 200;
const MAX_TEXT = 2000;
const MAX_STEPS = 200;
/** As a ceremony's holders (src/shared/ceremonies.ts). */
const MAX_NAME = 64;
const MAX_HOLDERS = 16;

/** How a value YAML read is named in a message: officers see what they wrote, not a JS type. */
export function described(input: unknown): string {
  if (input === null || input === undefined) return 'nothing';
  if (typeof input === 'string') return `"${input}"`;
  if (typeof input === 'number' || typeof input === 'boolean') return String(input);
  return Array.isArray(input) ? 'a list' : 'a map';
}

const typeWords: Record<string, string> = { string: 'text', number: 'a number', int: 'a whole number', boolean: 'true or false', array: 'a list', object: 'a map of keys and values' };

/**
 * The words for zod's own issues, used for every check that gives none of its own (passed to
 * safeParse). Unknown keys and unknown operations are worded where their place is known (script.ts).
 */
export function issueWords(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is missing';
      if (issue.input === null) return `is empty; it must be ${typeWords[issue.expected] ?? issue.expected}`;
      return `must be ${typeWords[issue.expected] ?? issue.expected}, not ${described(issue.input)}`;
    case 'too_small':
      if (issue.origin === 'string') return 'must not be empty';
      if (issue.origin === 'array' || issue.origin === 'set') return `needs at least ${issue.minimum}`;
      return `must be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'string') return `is longer than ${issue.maximum} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return `has more than ${issue.maximum}`;
      return `must be at most ${issue.maximum}`;
    case 'invalid_value':
      return `is ${described(issue.input)}; it must be ${issue.values.map(String).join(' or ')}`;
    default:
      return issue.message ?? 'is not valid here';
  }
}

/** Text on one line: trimmed, not empty, no control characters. */
function line(max = MAX_LINE) {
  return z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((s) => !UNPRINTABLE.test(s), { error: 'contains a control character (an escape, a tab, an invisible mark): write plain text' });
}

/** A value that must be text even when it looks like a number (a serial, a key id). */
function quoted(example: string) {
  return z.string({
    error: (issue) =>
      typeof issue.input === 'number' ? `is written as a number: put it in quotes ("${example}"), or YAML reads it as a number and drops its leading zeros` : undefined,
  });
}

/** The policy names a script may set: on/off settings and approval counts (src/shared/policy.ts). */
export const POLICY_NAMES: readonly string[] = [...SETTING_NAMES, ...APPROVAL_NAMES.map((a) => `approvals.${a}`)];
// A Map, not an object literal: a value such as "constructor" must not find Object's own members.
const ON_OFF = new Map<string, boolean>([['on', true], ['off', false], ['true', true], ['false', false]]);

/**
 * The script's schemas, built at their first use (reading a script): zod takes milliseconds to
 * build them, which every `tessera` command would otherwise pay when the terminal loads.
 */
function buildSchemas() {
  const name = line(MAX_NAME);
  /** Names in a list, each once. */
  function names(max: number) {
    return z
      .array(name)
      .max(max)
      .superRefine((list, ctx) => {
        list.forEach((n, i) => {
          if (list.indexOf(n) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `names "${n}" twice` });
        });
      });
  }

  const holders = names(MAX_HOLDERS).min(1);
  const threshold = z.number().int().min(1).max(MAX_HOLDERS);

  /** A key's CKA_ID in hex (uppercase accepted, lowercased), 1 to 128 bytes, as src/shared/ceremonies.ts. */
  const keyId = quoted('0a1b')
    .trim()
    .toLowerCase()
    .regex(/^([0-9a-f]{2}){1,128}$/, { error: 'must be a key id in hex: an even number of digits 0-9 and a-f, 1 to 128 bytes' });

  /** A date or a date and time as ISO 8601 writes it; the calendar must know the day. */
  const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;
  function isIsoDate(s: string): boolean {
    const m = ISO_DATE.exec(s);
    if (!m) return false;
    const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const date = new Date(Date.UTC(year, month - 1, day));
    const dayExists = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
    const timeValid = m[4] === undefined || (Number(m[4]) <= 23 && Number(m[5]) <= 59 && (m[6] === undefined || Number(m[6]) <= 59));
    return dayExists && timeValid;
  }

  const since = line().refine((s) => s === 'last-export' || isIsoDate(s), {
    error: 'must be last-export or an ISO 8601 date (2026-01-31) or date and time (2026-01-31T09:00:00Z)',
  });

  /** `threshold` no more than the holders named beside it. */
  function thresholdWithin(value: { holders?: string[]; threshold?: number }, ctx: z.RefinementCtx): void {
    if (value.holders && value.threshold !== undefined && value.threshold > value.holders.length) {
      ctx.addIssue({ code: 'custom', path: ['threshold'], message: `is ${value.threshold}, more than the ${value.holders.length} holders named` });
    }
  }

  const cardSet = z.strictObject({ holders, threshold, fingerprint: line(128).optional() }).superRefine(thresholdWithin);

  const ROLES = ['so-card', 'backup-card', 'crypto-officer'] as const satisfies readonly OfficerRole[];
  const officer = z.strictObject({
    name,
    roles: z
      .array(z.enum(ROLES))
      .min(1)
      .refine((r) => new Set(r).size === r.length, { error: 'names a role twice' }),
  });


  /** `{key-export: off, approvals.destroy: 3}` → [{name, value}]: on/off settings as booleans, counts 0..16. */
  const policyChangeMap = z
    .record(z.string(), z.unknown())
    .superRefine((changes, ctx) => {
      const entries = Object.entries(changes);
      if (entries.length === 0) ctx.addIssue({ code: 'custom', path: [], message: 'needs at least one setting' });
      if (entries.length > 20) ctx.addIssue({ code: 'custom', path: [], message: 'has more than 20 settings: split the change' });
      for (const [key, value] of entries) {
        if (!POLICY_NAMES.includes(key)) {
          ctx.addIssue({ code: 'custom', path: [key], params: { atKey: true }, message: `"${key}" is not a policy setting; it must be one of ${POLICY_NAMES.join(', ')}` });
        } else if (key.startsWith('approvals.')) {
          if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_HOLDERS) {
            ctx.addIssue({ code: 'custom', path: [key], message: `is ${described(value)}; it must be a number of SO holders, 0 to ${MAX_HOLDERS}` });
          }
        } else if ((typeof value !== 'string' && typeof value !== 'boolean') || !ON_OFF.has(String(value).toLowerCase())) {
          ctx.addIssue({ code: 'custom', path: [key], message: `is ${described(value)}; it must be on or off` });
        }
      }
    })
    .transform((changes) =>
      Object.entries(changes).map(([key, value]) => ({ name: key, value: typeof value === 'number' ? value : ON_OFF.get(String(value).toLowerCase()) === true })),
    );
  // zod's record drops a "__proto__" key without a word (and with it the settings written under it,
  // which reviewers read as part of the change): refused here, where the key is still there.
  const policyChanges = z
    .unknown()
    .superRefine((changes, ctx) => {
      if (changes !== null && typeof changes === 'object' && Object.hasOwn(changes, '__proto__')) {
        ctx.addIssue({ code: 'custom', path: ['__proto__'], params: { atKey: true }, message: `"__proto__" is not a policy setting; it must be one of ${POLICY_NAMES.join(', ')}` });
      }
    })
    .pipe(policyChangeMap);

  /** The keys every step may have besides its operation's parameters. */
  const stepCommon = {
    title: line().optional(),
    // One name may be written without brackets.
    by: z.preprocess((v) => (typeof v === 'string' ? [v] : v), names(50)).optional(),
    expect: line().optional(),
    'on-exception': z.enum(['stop', 'continue']).optional(),
  };

  function step<D extends ScriptOperationName, S extends z.ZodRawShape>(operation: D, shape: S) {
    return z.strictObject({ do: z.literal(operation), ...stepCommon, ...shape });
  }

  const media = line(4096);
  // One schema per operation, keyed by its `do`.
  const stepSchemas = {
    'so-login': step('so-login', {}),
    'co-login': step('co-login', {}),
    logout: step('logout', {}),
    backup: step('backup', { media }),
    restore: step('restore', { file: line(4096), only: z.array(keyId).min(1).max(100_000).optional(), 'on-conflict': z.enum(['skip', 'replace']).optional() }),
    'co-pin-reset': step('co-pin-reset', {}),
    'so-rotate': step('so-rotate', { holders: holders.optional(), threshold: threshold.optional() }).superRefine(thresholdWithin),
    'so-replace-card': step('so-replace-card', { holder: name }),
    'backup-set-rotate': step('backup-set-rotate', { holders: holders.optional(), threshold: threshold.optional(), 'new-escrow-key': z.boolean().optional() }).superRefine(thresholdWithin),
    'backup-replace-card': step('backup-replace-card', { holder: name }),
    'roll-call': step('roll-call', { set: z.enum(['so', 'backup']) }),
    'policy-set': step('policy-set', { changes: policyChanges }),
    'key-invalidate': step('key-invalidate', { id: keyId }),
    'key-reactivate': step('key-reactivate', { id: keyId }),
    'key-destroy': step('key-destroy', { ids: z.array(keyId).min(1).max(1000) }),
    'audit-export': step('audit-export', { media, since: since.optional() }),
    manual: step('manual', { text: z.string().trim().min(1).max(MAX_TEXT) }).superRefine((s, ctx) => {
      if (s.by?.length !== 1) ctx.addIssue({ code: 'custom', path: ['by'], input: s.by, message: 'a manual step names exactly one person who does it and confirms it (by: name)' });
      if (/[\p{Cc}\p{Cf}]/u.test(s.text.replace(/\n/g, ''))) ctx.addIssue({ code: 'custom', path: ['text'], message: 'contains a control character: write plain text' });
    }),
  } satisfies { [K in ScriptOperationName]: z.ZodType };

  const anyStep = z.discriminatedUnion('do', Object.values(stepSchemas) as unknown as [(typeof stepSchemas)['so-login'], ...(typeof stepSchemas)[ScriptOperationName][]]);

  // The whole script as written.
  const scriptSchema = z.strictObject({
    'tessera-ceremony': z.literal(1, {
      error: (issue) => (issue.input === undefined ? 'is missing: a ceremony script begins with "tessera-ceremony: 1"' : `is ${described(issue.input)}; this terminal reads version 1 ceremony scripts`),
    }),
    title: line(),
    partition: z.strictObject({ label: line(32), serial: quoted('0123456789abcdef').trim().min(1).max(16) }),
    roster: z.strictObject({ administrator: name, witnesses: names(50).optional(), officers: z.array(officer).min(1).max(100) }),
    preconditions: z.strictObject({ 'card-set': cardSet.optional(), 'backup-set': cardSet.optional(), media: z.boolean().optional() }).optional(),
    steps: z.array(anyStep).min(1).max(MAX_STEPS),
  });

  return { stepSchemas, scriptSchema, officer, cardSet };
}
type Schemas = ReturnType<typeof buildSchemas>;
let built: Schemas | null = null;
/** The schemas of a written script: `scriptSchema` (the whole script) and `stepSchemas` (one per operation, keyed by its `do`). */
export const scriptSchemas = (): Schemas => (built ??= buildSchemas());

export type WrittenScript = z.output<Schemas['scriptSchema']>;
export type WrittenStep = WrittenScript['steps'][number];

/** The keys a map at `path` may have (for "did you mean"), or none when the place is not a known map. */
export function keysAt(path: readonly PropertyKey[], step: unknown): string[] {
  const { stepSchemas, scriptSchema, officer, cardSet } = scriptSchemas();
  const at = path.filter((p) => typeof p !== 'number').join('.');
  if (at === 'steps') {
    const operation = (step as { do?: unknown } | null)?.do;
    const schema = typeof operation === 'string' && (SCRIPT_OPERATION_NAMES as string[]).includes(operation) ? stepSchemas[operation as ScriptOperationName] : null;
    return schema ? Object.keys(schema.shape) : [];
  }
  const shapes: Record<string, z.ZodObject> = {
    '': scriptSchema,
    partition: scriptSchema.shape.partition,
    roster: scriptSchema.shape.roster,
    'roster.officers': officer,
    preconditions: scriptSchema.shape.preconditions.unwrap(),
    'preconditions.card-set': cardSet,
    'preconditions.backup-set': cardSet,
  };
  const shape = Object.hasOwn(shapes, at) ? shapes[at] : undefined;
  return shape ? Object.keys(shape.shape) : [];
}
