// The checks across a ceremony script: every person on the roster once, every `by` on the roster,
// every card holder a roster officer with that set's card. They read the script as YAML gave it,
// before or despite shape errors, so one reading of the file lists every problem at once; a value
// of the wrong shape is left to the schema (script-schema.ts).
import type { OfficerRole } from '../../shared/ceremony-script';

/** A problem at a path of the script as written (numbers count from 0 here). */
export interface PathIssue {
  path: (string | number)[];
  message: string;
}

type Loose = Record<string, unknown>;
const asMap = (v: unknown): Loose => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Loose) : {});
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const asName = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

const roleWords: Record<OfficerRole, string> = { 'so-card': 'an SO card', 'backup-card': 'a backup-set card', 'crypto-officer': "the crypto officer's PIN" };

/**
 * The roster's problems and those of every name the script uses. Decided: the administrator,
 * each witness and each officer are distinct people (a witness watches the administrator and the
 * officers, so none of them witnesses their own work).
 */
export function rosterIssues(written: unknown): PathIssue[] {
  const issues: PathIssue[] = [];
  const roster = asMap(asMap(written).roster);
  const seen = new Map<string, string>();
  const roles = new Map<string, OfficerRole[]>();
  const enter = (value: unknown, path: (string | number)[], place: string): void => {
    const name = asName(value);
    if (name === null) return;
    const first = seen.get(name);
    if (first !== undefined) issues.push({ path, message: `"${name}" is on the roster twice (also as ${first}): each person has one place (administrator, witness or officer)` });
    else seen.set(name, place);
  };
  enter(roster.administrator, ['roster', 'administrator'], 'the administrator');
  asList(roster.witnesses).forEach((w, i) => enter(w, ['roster', 'witnesses', i], `witness ${i + 1}`));
  asList(roster.officers).forEach((o, i) => {
    enter(asMap(o).name, ['roster', 'officers', i, 'name'], `officer ${i + 1}`);
    const name = asName(asMap(o).name);
    if (name !== null && !roles.has(name)) roles.set(name, asList(asMap(o).roles).filter((r): r is OfficerRole => typeof r === 'string') as OfficerRole[]);
  });

  const onRoster = (value: unknown, path: (string | number)[]): void => {
    const name = asName(value);
    if (name !== null && !seen.has(name)) issues.push({ path, message: `"${name}" is not on the roster` });
  };
  const holding = (value: unknown, role: OfficerRole, path: (string | number)[]): void => {
    const name = asName(value);
    if (name === null) return;
    if (!seen.has(name)) issues.push({ path, message: `"${name}" is not on the roster` });
    else if (!roles.get(name)?.includes(role)) issues.push({ path, message: `"${name}" is not a roster officer holding ${roleWords[role]} (role ${role})` });
  };
  const holders = (list: unknown, role: OfficerRole, path: (string | number)[]): void => asList(list).forEach((h, i) => holding(h, role, [...path, i]));

  const preconditions = asMap(asMap(written).preconditions);
  holders(asMap(preconditions['card-set']).holders, 'so-card', ['preconditions', 'card-set', 'holders']);
  holders(asMap(preconditions['backup-set']).holders, 'backup-card', ['preconditions', 'backup-set', 'holders']);

  asList(asMap(written).steps).forEach((s, i) => {
    const step = asMap(s);
    const at = (...rest: (string | number)[]): (string | number)[] => ['steps', i, ...rest];
    // One name may be written without brackets; the crypto officer logs in with their own PIN.
    const by = typeof step.by === 'string' ? [[step.by, at('by')] as const] : asList(step.by).map((b, j) => [b, at('by', j)] as const);
    for (const [name, path] of by) {
      if (step.do === 'co-login') holding(name, 'crypto-officer', path);
      else onRoster(name, path);
    }
    if (step.do === 'so-replace-card') holding(step.holder, 'so-card', at('holder'));
    if (step.do === 'backup-replace-card') holding(step.holder, 'backup-card', at('holder'));
    if (step.do === 'so-rotate') holders(step.holders, 'so-card', at('holders'));
    if (step.do === 'backup-set-rotate') holders(step.holders, 'backup-card', at('holders'));
  });
  return issues;
}
