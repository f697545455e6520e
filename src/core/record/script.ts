// Reading a ceremony script: the YAML file officers reviewed, checked whole before anything runs,
// every problem named with its line and column and the field as officers wrote it. Also the
// script's digest, which the transcript names so a run can be tied to the file that was reviewed.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Document, Node } from 'yaml';
import type { z } from 'zod';
import { type CeremonyScript, SCRIPT_OPERATIONS, SCRIPT_OPERATION_NAMES, type ScriptCardSet, type ScriptProblem, type ScriptStep } from '../../shared/ceremony-script';
import { TesseraError } from '../errors';
import { type PathIssue, rosterIssues } from './script-roster';
import { type WrittenStep, described, issueWords, keysAt, scriptSchemas } from './script-schema';

/**
 * The YAML parser, loaded when a script is first read: it is some forty CommonJS files, and most
 * commands and the terminal's start never read a script.
 */
let yamlParser: typeof import('yaml') | null = null;
function yaml(): typeof import('yaml') {
  return (yamlParser ??= createRequire(import.meta.url)('yaml') as typeof import('yaml'));
}

/** Largest script read: refused before parsing (a script is a few pages). */
export const MAX_SCRIPT_BYTES = 256 * 1024;
/** Problems listed in one refusal; the rest are counted. */
export const MAX_PROBLEMS = 20;

/** The outcome of reading a script: the script, or every problem found (sorted by place). */
export type ScriptReading = { ok: true; script: CeremonyScript } | { ok: false; problems: ScriptProblem[] };

/**
 * Reads and checks a ceremony script without throwing for what is wrong with it (the GUI lists the
 * problems beside the file). `text` is the file's content; YAML 1.2 core schema (`off`, `yes` are
 * text), no aliases, no duplicate keys, one document.
 */
export function readScript(text: string): ScriptReading {
  try {
    return readChecked(text);
  } catch (error) {
    // Nesting deep enough to exhaust the stack (no ceremony script nests more than a few levels).
    if (error instanceof RangeError) return { ok: false, problems: [{ line: 1, column: 1, path: '', message: 'the file nests lists or maps too deeply to be a ceremony script' }] };
    throw error;
  }
}

function readChecked(text: string): ScriptReading {
  if (Buffer.byteLength(text, 'utf8') > MAX_SCRIPT_BYTES) {
    return { ok: false, problems: [{ line: 1, column: 1, path: '', message: `the file is larger than ${MAX_SCRIPT_BYTES / 1024} KiB; a ceremony script is a few pages` }] };
  }
  const lines = new (yaml().LineCounter)();
  const doc = yaml().parseDocument(text, { version: '1.2', schema: 'core', merge: false, uniqueKeys: true, prettyErrors: false, lineCounter: lines });
  const at = (offset: number): { line: number; column: number } => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };

  const syntax: ScriptProblem[] = [...doc.errors, ...doc.warnings].map((e) => ({ ...at(e.pos[0]), path: '', message: yamlWords(e.code, e.message, text.slice(e.pos[0])) }));
  // Aliases are refused outright: a script is read by people, and `*name` hides what a step does
  // (and nested aliases expand exponentially when read: the "billion laughs").
  yaml().visit(doc, {
    Alias(_, alias) {
      syntax.push({ ...at(alias.range?.[0] ?? 0), path: '', message: `the alias *${alias.source} is not allowed in a ceremony script: write each value out` });
    },
  });
  if (syntax.length > 0) return { ok: false, problems: sorted(syntax) };
  if (doc.contents === null) return { ok: false, problems: [{ line: 1, column: 1, path: '', message: 'the file is empty: a ceremony script begins with "tessera-ceremony: 1"' }] };

  // No alias is left by now; the limit stays as a second guard should the refusal above ever go.
  const written: unknown = doc.toJS({ maxAliasCount: 0 });
  const found: ScriptProblem[] = [];
  const parsed = scriptSchemas().scriptSchema.safeParse(written, { error: issueWords, reportInput: true });
  const suggested = new Set<string>();
  if (!parsed.success) for (const issue of parsed.error.issues) found.push(...locateIssue(doc, at, issue, written, suggested));
  for (const issue of rosterIssues(written)) found.push(locate(doc, at, issue));
  // A misspelt key's "did you mean" already says that the key it is near is missing: said once.
  const problems = found.filter((p) => !(p.message === 'is missing' && suggested.has(p.path)));
  if (!parsed.success || problems.length > 0) return { ok: false, problems: sorted(problems) };

  const steps = doc.get('steps', true);
  const stepLine = (i: number): number => {
    const item = yaml().isSeq(steps) ? steps.items[i] : undefined;
    return at((item as Node | undefined)?.range?.[0] ?? 0).line;
  };
  const w = parsed.data;
  const set = (s: { holders: string[]; threshold: number; fingerprint?: string } | undefined): ScriptCardSet | null =>
    s ? { holders: s.holders, threshold: s.threshold, fingerprint: s.fingerprint ?? null } : null;
  return {
    ok: true,
    script: {
      version: 1,
      title: w.title,
      partition: { label: w.partition.label, serial: w.partition.serial },
      roster: { administrator: w.roster.administrator, witnesses: w.roster.witnesses ?? [], officers: w.roster.officers },
      preconditions: { cardSet: set(w.preconditions?.['card-set']), backupSet: set(w.preconditions?.['backup-set']), media: w.preconditions?.media ?? false },
      steps: w.steps.map((s, i) => toStep(s, i + 1, stepLine(i))),
    },
  };
}

/**
 * Reads and checks a ceremony script.
 * @param text the file's content (UTF-8 decoded).
 * @param file the file's name as officers should see it in the messages (`practice.yaml`).
 * @throws TesseraError SCRIPT_INVALID naming, one line each, up to MAX_PROBLEMS problems:
 *   `practice.yaml line 14, column 9: steps[3].do: "backpu" is not an operation; it must be one of …`
 *   (field paths as written, numbers counting from 1).
 */
export function parseScript(text: string, file: string): CeremonyScript {
  const reading = readScript(text);
  if (reading.ok) return reading.script;
  const shown = reading.problems.slice(0, MAX_PROBLEMS).map((p) => `${file} line ${p.line}, column ${p.column}: ${p.path === '' ? '' : `${p.path}: `}${p.message}`);
  const more = reading.problems.length - shown.length;
  if (more > 0) shown.push(`… and ${more} more problem${more === 1 ? '' : 's'} in ${file}.`);
  return reject(shown.join('\n'), reading.problems.length);
}

function reject(message: string, count: number): never {
  throw new TesseraError('SCRIPT_INVALID', message, `${count} problem${count === 1 ? '' : 's'}`);
}

/**
 * SHA-256 in lowercase hex of the script file's exact bytes (a string counts as its UTF-8 bytes;
 * pass the file's Buffer to include a byte-order mark or line endings exactly as stored).
 */
export function scriptDigest(text: string | Uint8Array): string {
  return createHash('sha256').update(typeof text === 'string' ? Buffer.from(text, 'utf8') : text).digest('hex');
}

function toStep(s: WrittenStep, n: number, line: number): ScriptStep {
  const common = { n, line, title: s.title ?? SCRIPT_OPERATIONS[s.do].words, by: s.by ?? [], expect: s.expect ?? null, onException: s['on-exception'] ?? 'stop' } as const;
  switch (s.do) {
    case 'so-login':
    case 'co-login':
    case 'logout':
    case 'co-pin-reset':
      return { ...common, do: s.do };
    case 'backup':
      return { ...common, do: s.do, media: s.media };
    case 'restore':
      return { ...common, do: s.do, file: s.file, only: s.only ?? null, onConflict: s['on-conflict'] ?? 'skip' };
    case 'so-rotate':
      return { ...common, do: s.do, holders: s.holders ?? null, threshold: s.threshold ?? null };
    case 'backup-set-rotate':
      return { ...common, do: s.do, holders: s.holders ?? null, threshold: s.threshold ?? null, newEscrowKey: s['new-escrow-key'] ?? false };
    case 'so-replace-card':
    case 'backup-replace-card':
      return { ...common, do: s.do, holder: s.holder };
    case 'roll-call':
      return { ...common, do: s.do, set: s.set };
    case 'policy-set':
      return { ...common, do: s.do, changes: s.changes };
    case 'key-invalidate':
    case 'key-reactivate':
      return { ...common, do: s.do, id: s.id };
    case 'key-destroy':
      return { ...common, do: s.do, ids: s.ids };
    case 'audit-export':
      return { ...common, do: s.do, media: s.media, since: s.since ?? null };
    case 'manual':
      return { ...common, do: s.do, text: s.text };
  }
}

type Position = (offset: number) => { line: number; column: number };

/** One zod issue as problems: unknown keys one each at the key, an unknown operation with the list. */
function locateIssue(doc: Document, at: Position, issue: z.core.$ZodIssue, written: unknown, suggested: Set<string>): ScriptProblem[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const stepIndex = path[0] === 'steps' && typeof path[1] === 'number' ? path[1] : -1;
    const allowed = keysAt(path, stepIndex >= 0 ? (written as { steps: unknown[] }).steps[stepIndex] : null);
    return issue.keys.map((key) => {
      const near = allowed.find((k) => distance(k, key) <= 2);
      if (near) suggested.add(pathWords([...path, near]));
      const message = `"${key}" is not a key here${near ? `; did you mean "${near}"?` : allowed.length > 0 ? `; the keys are ${allowed.join(', ')}` : ''}`;
      return locate(doc, at, { path: [...path, key], message }, true);
    });
  }
  if (issue.code === 'invalid_union' && issue.discriminator === 'do') {
    const value = doc.getIn(path);
    const list = SCRIPT_OPERATION_NAMES.join(', ');
    const message = value === undefined ? `is missing: say what the step does, one of ${list}` : `${described(value)} is not an operation; it must be one of ${list}`;
    return [locate(doc, at, { path, message })];
  }
  const atKey = issue.code === 'custom' && issue.params?.atKey === true;
  return [locate(doc, at, { path, message: issue.message }, atKey)];
}

/**
 * Where `issue` is in the file: at the node its path names, or (a key that is absent) at the map
 * that should hold it; `atKey` points at the key itself rather than its value.
 */
function locate(doc: Document, at: Position, issue: PathIssue, atKey = false): ScriptProblem {
  const { isMap, isPair, isScalar, isSeq } = yaml();
  let node: unknown = doc.contents;
  for (const [i, segment] of issue.path.entries()) {
    const last = i === issue.path.length - 1;
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && (isScalar(p.key) ? p.key.value : p.key) === segment);
      next = pair && (last && atKey ? pair.key : (pair.value ?? pair.key));
    } else if (isSeq(node) && typeof segment === 'number') {
      next = node.items[segment];
    }
    if (next === undefined || next === null) break;
    node = next;
  }
  const offset = (node as Node | null)?.range?.[0] ?? 0;
  return { ...at(offset), path: pathWords(issue.path), message: issue.message };
}

/** `steps[3].by[1]`: keys as written, positions counting from 1 as officers count steps. */
function pathWords(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p + 1}]` : i === 0 ? p : `.${p}`)).join('');
}

/** The YAML parser's problems in officers' words; `source` is the text from the problem on. */
function yamlWords(code: string, message: string, source: string): string {
  const word = /^[^\s:,{}[\]]*/.exec(source)?.[0] ?? '';
  switch (code) {
    case 'DUPLICATE_KEY':
      return `"${/^[^:\n]*/.exec(source)?.[0].trim() ?? ''}" is given twice in the same map: keep one`;
    case 'MULTIPLE_DOCS':
      return 'the file holds more than one YAML document (a second ---): a ceremony script is one document';
    case 'TAB_AS_INDENT':
      return 'a tab indents this line: indent with spaces';
    case 'TAG_RESOLVE_FAILED':
      return `the tag ${word} is not allowed in a ceremony script: write plain values`;
    default:
      return `YAML syntax: ${message}`;
  }
}

function sorted(problems: ScriptProblem[]): ScriptProblem[] {
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Edit distance, for "did you mean" on a misspelt key (keys are short). */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length] ?? 0;
}
