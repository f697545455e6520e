// Restoring a backup into the chosen partition (the same one, or a fresh one after a disaster).
// The whole file is authenticated first (framing, checksum, signature, manifest), then m cards of
// the backup's key set are read: their set must be the one the header names, and its signing key
// the one that signed the file, so nobody who only knows the escrow public key can make a backup
// a restore accepts. Every entry is decrypted before the first object is written. Objects already
// in the partition exactly as backed up are recognised, so an interrupted restore run again
// completes without duplicates; a conflict (same id or label, other contents) is skipped, or
// replaced after a confirmation naming it. Each restored key is checked against the backup.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { CeremonyResult, RestoreLine, RestoreOutcome, RestoreOutcomeKind, RestoreReport } from '../../shared/types';
import { type BackupKeys, decapsulate, escrowPublic, fingerprint, wipeKeys } from '../backup/escrow';
import { type EntryBody, MANIFEST_SUFFIX, MAX_FILE_BYTES, type ParsedBackup, openEntry, verifyBytes } from '../backup/format';
import { checkManifest } from '../backup/manifest';
import { readBackupFile } from '../backup/media';
import { summaryOf } from '../backup/verify';
import { CLASS_CODES, type CapturedObject, attribute, capture, differences, isKey, survey, template } from '../backup/objects';
import { pacer } from '../backup/pacer';
import { signData, spkiFromEc, verifyData } from '../backup/signing-key';
import { chooseKeyWrap, destroyQuietly, importWrapKey } from '../backup/wrap';
import { TesseraError, toErrorData } from '../errors';
import type { Intent } from '../store/intents';
import { CKA, CKK } from '../hsm/constants';
import type { Handle } from '../hsm/pkcs11-adapter';
import type { Session } from '../hsm/session';
import { combineShares, commitment, matches } from '../quorum/card-set';
import { type CardRecord, parseRecord, refusal } from '../quorum/card-record';
import { wipe } from '../secrets';
import type { BackupContext } from './backup';
import { Ceremony, CeremonyCancelled, describeCardProblem } from './ceremony';
import { crashPoint } from './crash-points';

export interface RestoreParams {
  file: string;
  /** CKA_ID values (hex) to restore; all objects when absent. */
  only?: string[];
  /** What to do with conflicts without asking (CLI); 'ask' shows the listing to choose from. */
  onConflict: 'skip' | 'replace' | 'ask';
  /** Only read the backup's full content listing with the quorum: no partition needed, nothing written. */
  listOnly?: boolean;
}

type ObjectEntry = Extract<EntryBody, { kind: 'object' }>;

export class RestoreCeremony extends Ceremony {
  private readonly shares = new Map<number, Buffer>();
  private escrow: Buffer | null = null;
  private keys: BackupKeys | null = null;
  private wrapKey: Handle | null = null;
  private intent: Intent<unknown> | null = null;
  private readonly holders: string[] = [];

  constructor(
    private readonly ctx: BackupContext,
    private readonly params: RestoreParams,
    private readonly options: { retryWrongPin: boolean },
  ) {
    const p = params.listOnly ? { label: '(no partition needed)', serial: '' } : ctx.partition.partition();
    const steps = params.listOnly ? ['Verify the backup', 'Backup-set cards', 'Contents'] : ['Verify the backup', 'Backup-set cards', 'Choose objects', 'Restore and check', 'Done'];
    super(ctx.readers, 'restore', params.listOnly ? 'Read a backup\'s contents' : 'Restore a backup', { label: p.label, serial: p.serial }, steps);
  }

  protected async run(): Promise<CeremonyResult> {
    try {
      return this.params.listOnly ? await this.listContents() : await this.restore();
    } catch (error) {
      // Refusals (a bad file, a forged one, wrong cards) and failures are part of the record.
      const data = toErrorData(error);
      const action = this.params.listOnly ? 'backup.list' : 'backup.restore';
      const target = this.params.listOnly ? this.params.file : `${this.current().partition.label} (serial ${this.current().partition.serial})`;
      await this.ctx.audit.append({ actor: this.ctx.actor, action, target, outcome: error instanceof CeremonyCancelled ? 'failed' : data.code === 'BACKUP_INVALID' || data.code === 'CARD_ERROR' ? 'refused' : 'failed', details: { file: this.params.file, error: error instanceof CeremonyCancelled ? 'cancelled' : data.code, reason: error instanceof CeremonyCancelled ? 'cancelled by the officers' : data.message } }).catch(() => undefined);
      throw error;
    }
  }

  private async restore(): Promise<CeremonyResult> {
    const { partition, audit } = this.ctx;
    const session = partition.coSession();
    const token = partition.token();
    const target = `${token.label} (serial ${token.serial})`;

    this.prompt({ kind: 'working', text: 'Verifying the backup file…' });
    const backup = await authenticate(this.params.file);
    const h = backup.header;
    const mechanism = chooseKeyWrap(partition, 'unwrap', h.mechanisms.keyWrap);
    await audit.append({ actor: this.ctx.actor, action: 'backup.restore.start', target, outcome: 'ok', details: { backupId: h.backupId, from: `${h.partition.label} (serial ${h.partition.serial})` } });

    this.stepTo(1);
    await this.collectShares(backup);
    this.prompt({ kind: 'working', text: 'Opening the backup…' });
    const bodies = await this.openAll(backup);

    this.stepTo(2);
    const paced = pacer();
    const existing = await survey(session, paced);
    const lines: ReturnType<typeof this.lineFor>[] = [];
    const index = indexByIdAndLabel(existing);
    for (const b of bodies) {
      lines.push(this.lineFor(session, b, index));
      await paced();
    }
    this.show({ kind: 'restore-choice', backup: summaryOf(h), objects: lines.map((l) => l.line) });
    const { selected, replace } = await this.choose(lines.map((l) => l.line));

    if (replace.size > 0) {
      const named = lines.filter((l) => replace.has(l.line.index)).map((l) => `“${l.line.conflictWith ?? l.line.label}”`);
      this.prompt({
        kind: 'confirm',
        text: `Replace ${named.length} object${named.length === 1 ? '' : 's'} in partition “${token.label}”: ${named.join(', ')}? Each is destroyed after its replacement from the backup is restored and checked.`,
        confirmLabel: `Replace ${named.length} object${named.length === 1 ? '' : 's'} in “${token.label}”`,
      });
      await this.waitFor(['confirm']);
    }

    this.stepTo(3);
    this.show(null);
    this.prompt({ kind: 'working', text: 'Restoring…' });
    this.wrapKey = importWrapKey(session, (this.keys as BackupKeys).wrapKey);
    const intent = this.ctx.intents.begin('restore', 'restoring', { backupId: h.backupId, file: this.params.file, target: token.serial });
    this.intent = intent;
    const outcomes: RestoreOutcome[] = [];
    let lastShown = 0;
    for (const [i, { line, entry, conflict }] of lines.entries()) {
      this.checkCancelled();
      outcomes.push(this.restoreOne(session, mechanism.value, line, entry, conflict, selected.has(line.index), replace.has(line.index)));
      crashPoint(`restore:object-${i + 1}`);
      if (performance.now() - lastShown > 100 || i === lines.length - 1) {
        this.progress(i + 1, lines.length);
        lastShown = performance.now();
      }
      await paced();
    }
    destroyQuietly(session, this.wrapKey);
    this.wrapKey = null;
    wipeKeys(this.keys);
    this.keys = null;
    this.ctx.intents.finish(intent, 'done');
    this.intent = null;

    const counts = { restored: 0, replaced: 0, 'already-present': 0, skipped: 0, 'not-selected': 0, excluded: 0, failed: 0 } satisfies Record<RestoreOutcomeKind, number>;
    for (const o of outcomes) counts[o.outcome]++;
    const report: RestoreReport = { backupId: h.backupId, file: this.params.file, source: { label: h.partition.label, serial: h.partition.serial }, target: { label: token.label, serial: token.serial }, counts, objects: outcomes };
    await audit.append({
      actor: this.ctx.actor,
      action: 'backup.restore',
      target,
      outcome: counts.failed > 0 ? 'failed' : 'ok',
      details: { backupId: h.backupId, holders: this.holders.join(', '), ...Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v])) },
    });
    if (counts.failed > 0) this.notice('error', `${counts.failed} object${counts.failed === 1 ? '' : 's'} could not be restored; see the report.`);
    return { kind: 'restore', report };
  }

  /** The full listing of a backup: needs the quorum (entries are encrypted), not a partition. */
  private async listContents(): Promise<CeremonyResult> {
    this.prompt({ kind: 'working', text: 'Verifying the backup file…' });
    const backup = await authenticate(this.params.file);
    this.stepTo(1);
    await this.collectShares(backup);
    const bodies = await this.openAll(backup);
    wipeKeys(this.keys);
    this.keys = null;
    this.stepTo(2);
    const h = backup.header;
    const objects: RestoreLine[] = bodies.map((b) => ({ index: b.index, class: b.class, label: b.label, id: b.id, state: b.kind === 'excluded' ? 'excluded' : 'new', ...(b.kind === 'excluded' ? { reason: b.reason } : {}) }));
    await this.ctx.audit.append({ actor: this.ctx.actor, action: 'backup.list', target: `${h.partition.label} (serial ${h.partition.serial})`, outcome: 'ok', details: { backupId: h.backupId, holders: this.holders.join(', ') } });
    return { kind: 'backup-list', backup: summaryOf(h), objects };
  }

  // ---- the quorum of backup-set cards ----

  private async collectShares(backup: ParsedBackup): Promise<void> {
    const h = backup.header;
    const trusted = { set: h.backupSet.set, generation: h.backupSet.generation, descriptorHash: h.backupSet.descriptorHash };
    let descriptor: CardRecord['descriptor'] | null = null;
    const cards = new Set<string>();
    while (!descriptor || this.shares.size < descriptor.m) {
      const of = descriptor ? ` of ${descriptor.m}` : '';
      const presented = await this.nextCard({ kind: 'insert-card', text: `Officer ${this.shares.size + 1}${of}: insert your card (backup key set of “${h.partition.label}”).` });
      let holder = 'This card';
      try {
        const serial = await presented.card.serial();
        const frame = await presented.card.readSlot('backup');
        const record = parseRecord(frame);
        holder = record?.holder ? `${record.holder}'s card` : holder;
        const refused = refusal(record, frame, serial, trusted, h.partition.serial);
        if (refused || !record || !serial) {
          this.notice('warning', `${holder}: not a card of this backup's key set. ${refused ?? ''}`.trim());
          continue;
        }
        if (this.shares.has(record.index) || cards.has(serial)) {
          this.notice('warning', `${holder}: already read. Each officer's card counts once; insert another officer's card.`);
          continue;
        }
        const keys = record.descriptor.backup;
        if (record.descriptor.purpose !== 'backup' || !keys || fingerprint(Buffer.from(keys.signingKey, 'base64')) !== h.signer.fingerprint || keys.escrowPublic !== h.escrow.publicKey) {
          throw new TesseraError('BACKUP_INVALID', 'This backup was not signed by the backup-signing key its card set names: it is forged, or altered. Nothing was restored.');
        }
        descriptor ??= record.descriptor;
        this.needs(descriptor.m);
        const share = await this.shareFrom(presented.card, record, presented.reader, 'backup', this.options.retryWrongPin);
        if (!share) continue;
        this.shares.set(record.index, share);
        this.holders.push(record.holder);
        cards.add(serial);
        this.collect(record.holder, record.index, serial);
        this.notice('info', `${record.holder}'s card read: ${this.shares.size} of ${descriptor.m} collected. Take the card out.`);
      } catch (error) {
        if (error instanceof CeremonyCancelled || (error instanceof TesseraError && error.code === 'BACKUP_INVALID')) throw error;
        this.notice('warning', `${holder}: ${describeCardProblem(error, 'taken out before it was read. Insert it again.')}`);
      } finally {
        await presented.session.close();
      }
    }
    this.prompt({ kind: 'working', text: 'Rebuilding and checking the escrow key…' });
    const ordered = [...this.shares.entries()].sort(([a], [b]) => a - b).map(([, s]) => s);
    this.escrow = await combineShares(ordered, descriptor.m);
    if (!matches(descriptor.commitment, commitment(descriptor.set, descriptor.generation, this.escrow)) || !escrowPublic(this.escrow).equals(Buffer.from(h.escrow.publicKey, 'base64'))) {
      throw new TesseraError('CARD_ERROR', 'The cards do not rebuild the backup set\'s escrow key. Nothing was restored.', 'commitment mismatch');
    }
    this.keys = decapsulate(this.escrow, Buffer.from(h.ephemeralPublic, 'base64'), Buffer.from(h.escrow.publicKey, 'base64'));
    wipe(this.escrow);
    this.escrow = null;
  }

  /** Every entry decrypted and checked before anything is written: one bad entry stops the restore. */
  private async openAll(backup: ParsedBackup): Promise<EntryBody[]> {
    const keys = this.keys as BackupKeys;
    const paced = pacer();
    const bodies: EntryBody[] = [];
    for (const e of backup.entries) {
      const body = openEntry(e, keys.contentKey, backup.header.backupId);
      if (!body) throw new TesseraError('BACKUP_INVALID', `Entry ${e.index + 1} of the backup does not open with the backup's key: it was altered. Nothing was restored.`);
      if (body.kind === 'object' && isKey(body.class) !== (body.wrapped !== undefined)) throw new TesseraError('BACKUP_INVALID', `Entry ${e.index + 1} is inconsistent. Nothing was restored.`);
      bodies.push(body);
      await paced();
    }
    return bodies;
  }

  // ---- what is in the partition already ----

  private lineFor(session: Session, body: EntryBody, existing: Map<string, CapturedObject[]>): { line: RestoreLine; entry: ObjectEntry | null; conflict: CapturedObject | null } {
    const base = { index: body.index, class: body.class, label: body.label, id: body.id };
    if (body.kind === 'excluded') return { line: { ...base, state: 'excluded', reason: body.reason }, entry: null, conflict: null };
    const candidates = [...(body.id !== '' ? (existing.get(`${body.class} id ${body.id}`) ?? []) : []), ...(body.label !== '' ? (existing.get(`${body.class} label ${body.label}`) ?? []) : [])];
    const same = [...new Set(candidates)];
    const identical = same.find((o) => o.id === body.id && o.label === body.label && this.sameContents(session, o, body));
    if (identical) return { line: { ...base, state: 'identical' }, entry: body, conflict: null };
    const conflict = same[0] ?? null;
    if (conflict) return { line: { ...base, state: 'conflict', conflictWith: `${conflict.label || '(no label)'} (id ${conflict.id || 'none'})` }, entry: body, conflict };
    return { line: { ...base, state: 'new' }, entry: body, conflict: null };
  }

  /** Whether an object in the partition is the backed-up one (same key, certificate or value). */
  private sameContents(session: Session, o: CapturedObject, e: ObjectEntry): boolean {
    if (o.keyType !== e.keyType) return false;
    if (!isKey(e.class)) {
      const defining = [CKA.VALUE, CKA.MODULUS, CKA.PUBLIC_EXPONENT, CKA.EC_POINT, CKA.APPLICATION];
      return defining.every((t) => attribute(o, t) === attribute(e, t));
    }
    return checkKey(session, o, e).ok;
  }

  private async choose(lines: RestoreLine[]): Promise<{ selected: Set<number>; replace: Set<number> }> {
    const restorable = lines.filter((l) => l.state !== 'excluded');
    if (this.params.onConflict !== 'ask') {
      const only = this.params.only?.map((id) => id.toLowerCase());
      if (only && !only.every((id) => restorable.some((l) => l.id === id))) {
        throw new TesseraError('INVALID_REQUEST', `The backup holds no object with id ${only.filter((id) => !restorable.some((l) => l.id === id)).join(', ')}. Nothing was restored.`);
      }
      const selected = new Set(restorable.filter((l) => !only || only.includes(l.id)).map((l) => l.index));
      const replace = new Set(this.params.onConflict === 'replace' ? lines.filter((l) => l.state === 'conflict' && selected.has(l.index)).map((l) => l.index) : []);
      return { selected, replace };
    }
    this.prompt({ kind: 'choose-objects', text: 'Choose what to restore. Objects already in the partition as backed up are kept; for a conflict, choose to skip it or replace the object in the partition.' });
    const input = await this.waitFor(['choose']);
    if (input.kind !== 'choose') throw new CeremonyCancelled();
    const valid = new Set(restorable.map((l) => l.index));
    const selected = new Set((input.only ?? [...valid]).filter((i) => valid.has(i)));
    const replace = new Set(input.replace.filter((i) => selected.has(i) && lines[i]?.state === 'conflict'));
    return { selected, replace };
  }

  // ---- one object ----

  private restoreOne(session: Session, mechanism: number, line: RestoreLine, entry: ObjectEntry | null, conflict: CapturedObject | null, selected: boolean, replace: boolean): RestoreOutcome {
    const out = (outcome: RestoreOutcomeKind, check: string | null = null, notPreserved: string[] = [], message?: string): RestoreOutcome => ({ ...line, outcome, check, notPreserved, ...(message ? { message } : {}) });
    if (!entry) return out('excluded', null, [], line.reason);
    if (!selected) return out('not-selected');
    if (line.state === 'identical') return out('already-present', 'passed: the partition holds this object exactly as backed up');
    if (line.state === 'conflict' && !replace) return out('skipped', null, [], `Skipped: the partition holds another object with the same id or label (${line.conflictWith}).`);
    let handle: Handle;
    try {
      handle = entry.wrapped ? session.unwrapKey(mechanism, this.wrapKey as Handle, Buffer.from(entry.wrapped, 'base64'), template(entry)) : session.createObject(template(entry));
    } catch (error) {
      return out('failed', null, [], `The HSM refused to recreate it${error instanceof TesseraError && error.detail ? ` (${error.detail})` : ''}.`);
    }
    // One read of what the partition made of it serves both the key check and the report.
    const now = capture(session, handle, CLASS_CODES[entry.class], entry.keyType);
    const check = isKey(entry.class) && now ? checkKey(session, now, entry) : { ok: true, text: 'passed: its value matches the backup' };
    if (!check.ok) {
      destroyQuietly(session, handle);
      return out('failed', `FAILED: ${check.text}`, [], 'The recreated key did not match the backup; it was removed again.');
    }
    const notPreserved = differences(now, entry);
    if (replace && conflict) {
      try {
        session.destroyObject(conflict.handle);
      } catch {
        return out('restored', check.text, notPreserved, `Restored, but the object it replaces (${line.conflictWith}) could not be destroyed.`);
      }
      return out('replaced', check.text, notPreserved);
    }
    return out('restored', check.text, notPreserved);
  }

  protected wipeSecrets(): void {
    // Stopped (cancelled) half way: the objects restored so far stay; running the restore again completes it.
    if (this.intent) this.ctx.intents.finish(this.intent, 'stopped');
    this.intent = null;
    for (const share of this.shares.values()) wipe(share);
    this.shares.clear();
    wipe(this.escrow);
    this.escrow = null;
    wipeKeys(this.keys);
    this.keys = null;
    if (this.wrapKey) {
      try {
        destroyQuietly(this.ctx.partition.coSession(), this.wrapKey);
      } catch {
        // logged out meanwhile: the session object went with the login
      }
      this.wrapKey = null;
    }
  }
}

/**
 * The key's check value: CKA_CHECK_VALUE, or (SoftHSM2 gives none for unwrapped keys) the same
 * value computed as PKCS#11 defines it for AES: the first 3 bytes of AES-ECB over a zero block.
 */
function checkValue(session: Session, o: CapturedObject, e: ObjectEntry): string | null {
  const value = attribute(o, CKA.CHECK_VALUE);
  if (typeof value === 'string' && value.length > 0) return value;
  if (e.keyType !== CKK.AES || attribute(o, CKA.ENCRYPT) !== true) return null;
  return session.encrypt(CKM_AES_ECB, o.handle, Buffer.alloc(16)).subarray(0, 3).toString('hex');
}

const CKM_AES_ECB = 0x1081;

/** The partition's objects by class and id, and by class and label: what a backup entry may meet. */
function indexByIdAndLabel(objects: CapturedObject[]): Map<string, CapturedObject[]> {
  const index = new Map<string, CapturedObject[]>();
  const add = (key: string, o: CapturedObject): void => void index.set(key, [...(index.get(key) ?? []), o]);
  for (const o of objects) {
    if (o.id !== '') add(`${o.class} id ${o.id}`, o);
    if (o.label !== '') add(`${o.class} label ${o.label}`, o);
  }
  return index;
}

/** Reads and authenticates a backup file (and its manifest, when it is there). */
export async function authenticate(file: string): Promise<ParsedBackup> {
  const bytes = await readBackupFile(file, MAX_FILE_BYTES);
  const verdict = verifyBytes(bytes);
  if (!verdict.valid) throw new TesseraError('BACKUP_INVALID', `${verdict.problem} Nothing was restored.`);
  const manifestPath = `${file}${MANIFEST_SUFFIX}`;
  if (existsSync(manifestPath)) {
    const problem = checkManifest(readFileSync(manifestPath, 'utf8'), verdict.backup, file.split('/').pop() ?? file);
    if (problem) throw new TesseraError('BACKUP_INVALID', `${problem} Nothing was restored.`);
  }
  return verdict.backup;
}

/** Whether a key in the partition is the backed-up key: its check value, modulus, or a test signature. */
export function checkKey(session: Session, o: CapturedObject, e: ObjectEntry): { ok: boolean; text: string } {
  const handle = o.handle;
  const check = e.check ?? { kind: 'none' as const, reason: 'The backup records no check for it.' };
  try {
    if (check.kind === 'check-value') {
      const now = checkValue(session, o, e);
      if (now === null) return { ok: true, text: 'not checked: the token gives no check value for this key, and the key may not encrypt' };
      return now === check.value ? { ok: true, text: `passed: check value ${now} matches` } : { ok: false, text: 'its check value differs from the backup\'s' };
    }
    if (check.kind === 'rsa-modulus') {
      const now = attribute(o, CKA.MODULUS);
      return now === check.modulus ? { ok: true, text: 'passed: its modulus matches the backed-up public key' } : { ok: false, text: 'its modulus differs from the backup\'s' };
    }
    if (check.kind === 'ec-public') {
      const message = randomBytes(32);
      const signature = signData(session, handle, message);
      const spki = spkiFromEc(Buffer.from(check.params, 'hex'), Buffer.from(check.point, 'hex'));
      return verifyData(spki, message, signature) ? { ok: true, text: 'passed: a test signature verifies with the backed-up public key' } : { ok: false, text: 'a test signature does not verify with the backed-up public key' };
    }
    return { ok: true, text: `not checked: ${check.reason}` };
  } catch (error) {
    return { ok: false, text: `the check could not run${error instanceof TesseraError && error.detail ? ` (${error.detail})` : ''}` };
  }
}
