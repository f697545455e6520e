import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keyFingerprint } from '../../src/core/audit/seal';
import { MAX_TRANSCRIPT_BYTES, type TranscriptSigner, transcriptDigest, transcriptStatement, verifyTranscriptFile, writeTranscript } from '../../src/core/record/transcript';
import { toWinAnsi } from '../../src/core/record/transcript-pdf';
import { formatTranscriptVerification } from '../../src/cli/ceremony-verify';
import type { TranscriptBody, TranscriptFile } from '../../src/shared/transcript';

// A software P-256 key stands in for the partition's audit key here only: the audit key itself
// (PKCS#11, signing in the HSM through signData) is exercised by the integration tests.
const auditKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const auditSpki = auditKey.publicKey.export({ format: 'der', type: 'spki' });
const auditFingerprint = keyFingerprint(auditSpki);
const forger = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const SERIAL = '0123456789abcdef';
const SCRIPT_SHA = createHash('sha256').update('script: yes\n').digest('hex');

function signerWith(key: { privateKey: KeyObject; publicKey: KeyObject } = auditKey): TranscriptSigner {
  return (statement) => ({
    spki: key.publicKey.export({ format: 'der', type: 'spki' }),
    signature: sign('sha256', statement, { key: key.privateKey, dsaEncoding: 'ieee-p1363' }),
    partition: SERIAL,
  });
}

const at = (minute: number): string => new Date(Date.UTC(2026, 10, 30, 17, minute, 5)).toISOString();

/** A run of `steps` steps on the lab partition; officers' names need characters beyond WinAnsi. */
function body(practice = true, steps = 3): TranscriptBody {
  return {
    format: 'tessera-transcript-v1',
    practice,
    title: 'Generate the payments master key',
    script: { file: 'generate-master.yaml', sha256: SCRIPT_SHA },
    partition: { label: 'Tessera Lab', serial: SERIAL, script: { label: 'Tessera Lab', serial: SERIAL } },
    terminal: { installation: 'install-1', workstationUser: 'ceremony' },
    roster: {
      administrator: 'Alice Admin',
      witnesses: ['Walter Witness'],
      officers: [
        { name: 'Zoë Łukasiewicz', roles: ['crypto officer', 'card holder'] },
        { name: 'Ōta 太郎', roles: ['card holder'] },
      ],
    },
    preconditions: [
      { what: 'Backup set enrolled', met: true, detail: 'set 2, any 2 of 3 cards' },
      { what: 'Policy requires dual control', met: false, detail: 'policy version 0 (defaults)' },
    ],
    steps: Array.from({ length: steps }, (_, i) => ({
      n: i + 1,
      title: `Step title ${i + 1}`,
      do: 'Insert your card and type its PIN.',
      by: ['Zoë Łukasiewicz'],
      expected: i === 0 ? 'The card is accepted.' : null,
      outcome: i === steps - 1 ? ('not reached' as const) : ('done' as const),
      started: i === steps - 1 ? null : at(i),
      ended: i === steps - 1 ? null : at(i + 1),
      details: [`Generated key “payments-${i + 1}”`, 'Wrote backup-2026.tbk'],
      cards: [{ holder: 'Zoë Łukasiewicz', card: 'A1B2' }],
    })),
    exceptions: [{ step: 2, time: at(2), by: 'Walter Witness', text: 'A card was read twice.', then: 'continued' }],
    started: at(0),
    ended: at(59),
    outcome: 'completed',
    audit: { from: 10, through: 42 },
  };
}

const folders: string[] = [];
afterAll(() => folders.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A fresh folder standing in for the USB stick. */
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-transcript-'));
  folders.push(dir);
  return dir;
}

async function written(b = body()): Promise<{ dir: string; json: string; pdf: string; file: TranscriptFile }> {
  const dir = folder();
  const out = await writeTranscript(dir, 'generate-master', b, signerWith());
  return { dir, json: out.json, pdf: out.pdf, file: JSON.parse(readFileSync(out.json, 'utf8')) as TranscriptFile };
}

function rewrite(path: string, edit: (file: TranscriptFile) => void): void {
  const file = JSON.parse(readFileSync(path, 'utf8')) as TranscriptFile;
  edit(file);
  writeFileSync(path, JSON.stringify(file, null, 2));
}

function pdfPages(path: string): string[] {
  return execFileSync('/usr/bin/pdftotext', [path, '-'], { encoding: 'utf8' }).split('\f').filter((page) => page.trim() !== '');
}

describe('the transcript format', () => {
  it('the signed bytes are the documented JSON array', () => {
    const d = 'ab'.repeat(32);
    const p = 'cd'.repeat(32);
    expect(transcriptStatement(d, p).toString('utf8')).toBe(`["tessera-transcript-v1","${d}","${p}"]`);
  });

  it('the digest does not depend on the order of keys', () => {
    const b = body();
    const reordered = Object.fromEntries(Object.entries(b).reverse()) as unknown as TranscriptBody;
    expect(transcriptDigest(reordered)).toBe(transcriptDigest(b));
    expect(transcriptDigest({ ...b, practice: false })).not.toBe(transcriptDigest(b));
  });
});

describe('writing a transcript', () => {
  it('writes the JSON and the PDF beside it, signed, and they verify', async () => {
    const { dir, json, pdf, file } = await written();
    expect(readdirSync(dir).sort()).toEqual(['generate-master.transcript.json', 'generate-master.transcript.pdf']);
    expect(pdf).toBe(join(dir, 'generate-master.transcript.pdf'));
    expect(file.pdf).toEqual({ file: 'generate-master.transcript.pdf', sha256: createHash('sha256').update(readFileSync(pdf)).digest('hex') });
    expect(file.signature).toMatchObject({ statement: 'tessera-transcript-v1', key: auditFingerprint, publicKey: auditSpki.toString('base64'), partition: SERIAL });
    expect(file.digest).toBe(transcriptDigest(body()));
    expect(readFileSync(json, 'utf8')).toContain('\n  "transcript": {');

    const v = await verifyTranscriptFile(json);
    expect(v).toMatchObject({ valid: true, problem: null, practice: true, title: body().title, outcome: 'completed', digest: file.digest, signer: auditFingerprint, signerChecked: false, pdf: 'matches' });
    expect(formatTranscriptVerification(v)).toContain(`the signer is unchecked: the file carries its own key, so anyone could have made it. Compare fingerprint ${auditFingerprint} with the partition's audit key`);

    const checked = await verifyTranscriptFile(json, { signer: auditFingerprint.toUpperCase().match(/.{2}/g)?.join(':') });
    expect(checked).toMatchObject({ valid: true, signerChecked: true });
    expect(formatTranscriptVerification(checked)).toContain(`Signed by the audit key you gave (${auditFingerprint})`);
  });

  it('never overwrites a transcript: the next one gets -2, then -3', async () => {
    const dir = folder();
    const first = await writeTranscript(dir, 'run', body(), signerWith());
    const before = readFileSync(first.json);
    const second = await writeTranscript(dir, 'run', body(false), signerWith());
    writeFileSync(join(dir, 'run-3.transcript.pdf'), 'someone else’s file');
    const third = await writeTranscript(dir, 'run', body(), signerWith());
    expect([second.json, second.pdf]).toEqual([join(dir, 'run-2.transcript.json'), join(dir, 'run-2.transcript.pdf')]);
    expect(third.json).toBe(join(dir, 'run-4.transcript.json'));
    expect(readFileSync(first.json).equals(before)).toBe(true);
    expect(readFileSync(join(dir, 'run-3.transcript.pdf'), 'utf8')).toBe('someone else’s file');
    expect((await verifyTranscriptFile(second.json)).practice).toBe(false);
  });

  it('refuses, writing nothing, a signature that does not verify, a malformed body and a path as name', async () => {
    const dir = folder();
    const wrongKey: TranscriptSigner = (statement) => ({ ...signerWith()(statement), spki: forger.publicKey.export({ format: 'der', type: 'spki' }) });
    await expect(writeTranscript(dir, 'run', body(), wrongKey)).rejects.toMatchObject({ code: 'HSM_ERROR', message: expect.stringContaining('Nothing was written') });
    await expect(writeTranscript(dir, 'run', { ...body(), started: 'yesterday' }, signerWith())).rejects.toMatchObject({ code: 'INTERNAL', detail: expect.stringContaining('started') });
    await expect(writeTranscript(dir, '../run', body(), signerWith())).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('says in transcript words when the stick is not there', async () => {
    await expect(writeTranscript(join(folder(), 'gone'), 'run', body(), signerWith())).rejects.toMatchObject({ code: 'MEDIA_ERROR', message: expect.stringContaining('No transcript was left on it; insert it again and write the transcript again.') });
  });
});

describe('verifying a transcript offline', () => {
  it('one byte changed in a step: the transcript was altered', async () => {
    const { json, file } = await written();
    const text = readFileSync(json, 'utf8');
    writeFileSync(json, text.replace('"Step title 2"', '"Step title 3"'));
    const v = await verifyTranscriptFile(json);
    expect(v.valid).toBe(false);
    expect(v.problem).toBe(`The transcript was altered: its digest is ${v.digest} but the signed digest is ${file.digest}.`);
  });

  it('a practice run passed off as production: altered', async () => {
    const { json } = await written();
    rewrite(json, (f) => {
      f.transcript.practice = false;
    });
    const v = await verifyTranscriptFile(json);
    expect(v).toMatchObject({ valid: false, practice: false });
    expect(v.problem).toMatch(/^The transcript was altered: its digest is [0-9a-f]{64} but the signed digest is/);
  });

  it('a digest recomputed after an edit does not match the signature', async () => {
    const { json } = await written();
    rewrite(json, (f) => {
      f.transcript.outcome = 'failed';
      f.digest = transcriptDigest(f.transcript);
    });
    expect((await verifyTranscriptFile(json)).problem).toContain('The signature does not match this file');
  });

  it('re-signed with another key: whole without --signer (signer unchecked), refused with it', async () => {
    const { json } = await written();
    const forgerSpki = forger.publicKey.export({ format: 'der', type: 'spki' });
    rewrite(json, (f) => {
      f.transcript.outcome = 'completed';
      f.transcript.roster.witnesses = ['Mallory'];
      f.digest = transcriptDigest(f.transcript);
      f.signature.signature = sign('sha256', transcriptStatement(f.digest, f.pdf.sha256), { key: forger.privateKey, dsaEncoding: 'ieee-p1363' }).toString('hex');
      f.signature.publicKey = forgerSpki.toString('base64');
      f.signature.key = keyFingerprint(forgerSpki);
    });
    const unchecked = await verifyTranscriptFile(json);
    expect(unchecked).toMatchObject({ valid: true, signer: keyFingerprint(forgerSpki), signerChecked: false });
    expect(formatTranscriptVerification(unchecked)).toContain(`Compare fingerprint ${keyFingerprint(forgerSpki)} with the partition's audit key`);

    const checked = await verifyTranscriptFile(json, { signer: auditFingerprint });
    expect(checked.valid).toBe(false);
    expect(checked.problem).toBe(`The transcript was signed by key ${keyFingerprint(forgerSpki)}, not by the audit key given (${auditFingerprint}): that partition did not sign it.`);
  });

  it('another key carried under the audit key’s fingerprint is caught', async () => {
    const { json } = await written();
    rewrite(json, (f) => {
      f.signature.publicKey = forger.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    });
    expect((await verifyTranscriptFile(json, { signer: auditFingerprint })).problem).toContain('The signature was altered: the key it names');
  });

  it('a missing PDF is said, and the transcript stays valid', async () => {
    const { json, pdf } = await written();
    unlinkSync(pdf);
    const v = await verifyTranscriptFile(json);
    expect(v).toMatchObject({ valid: true, pdf: 'missing' });
    expect(formatTranscriptVerification(v)).toContain('is not beside it. The JSON transcript is the record');
  });

  it('an edited PDF is altered, and the transcript not valid', async () => {
    const { json, pdf } = await written();
    const bytes = readFileSync(pdf);
    const middle = Math.floor(bytes.length / 2);
    bytes.writeUInt8((bytes.readUInt8(middle) ^ 0x01) & 0xff, middle);
    writeFileSync(pdf, bytes);
    const v = await verifyTranscriptFile(json);
    expect(v).toMatchObject({ valid: false, pdf: 'altered' });
    expect(v.problem).toContain('is not the one that was signed');
    expect(formatTranscriptVerification(v)).toMatch(/^THE TRANSCRIPT IS NOT VALID/);
  });

  it('a PDF named outside the folder is refused', async () => {
    const { dir, json } = await written();
    rewrite(json, (f) => {
      f.pdf.file = '../generate-master.transcript.pdf';
    });
    const v = await verifyTranscriptFile(json);
    expect(v).toMatchObject({ valid: false, pdf: null });
    expect(v.problem).toContain('which is not a file beside it: refused');
    expect(existsSync(join(dir, 'generate-master.transcript.pdf'))).toBe(true);
  });

  it('a cut-short, garbled, foreign or huge file is not valid, and nothing throws', async () => {
    const { dir, json } = await written();
    const text = readFileSync(json, 'utf8');
    const cut = join(dir, 'cut.json');
    writeFileSync(cut, text.slice(0, text.length / 2));
    expect((await verifyTranscriptFile(cut)).problem).toBe('This file is not a transcript: it is not JSON text (it may be cut short or garbled).');

    const extra = join(dir, 'extra.json');
    writeFileSync(extra, JSON.stringify({ ...JSON.parse(text), note: 'added' }));
    expect((await verifyTranscriptFile(extra)).problem).toMatch(/^This transcript file is malformed \(the top level: .*note/);

    const badStep = join(dir, 'bad-step.json');
    const parsed = JSON.parse(text) as TranscriptFile;
    (parsed.transcript.steps[1] as unknown as { outcome: string }).outcome = 'sort of';
    writeFileSync(badStep, JSON.stringify(parsed));
    expect((await verifyTranscriptFile(badStep)).problem).toContain('transcript › steps › 1 › outcome');

    const foreign = join(dir, 'foreign.json');
    writeFileSync(foreign, '[1, 2, 3]');
    expect((await verifyTranscriptFile(foreign)).problem).toBe('This file is not a Tessera transcript (tessera-transcript-v1).');

    const huge = join(dir, 'huge.json');
    writeFileSync(huge, '');
    truncateSync(huge, MAX_TRANSCRIPT_BYTES + 1);
    expect((await verifyTranscriptFile(huge)).problem).toContain('larger than any transcript');

    expect((await verifyTranscriptFile(join(dir, 'none.json'))).problem).toBe('There is no such file. Is the USB stick in?');
    expect((await verifyTranscriptFile(dir)).valid).toBe(false);
    expect((await verifyTranscriptFile(json, { signer: 'not-a-key' })).problem).toContain('not a key fingerprint');
  });
});

describe('the printable PDF', () => {
  it('prints the roster, hashes and outcomes, with PRACTICE on every page of a practice run', async () => {
    const { pdf, file } = await written(body(true, 40));
    const pages = pdfPages(pdf);
    expect(pages.length).toBeGreaterThan(2);
    for (const [i, page] of pages.entries()) {
      expect(page, `page ${i + 1} of the printout`).toContain('PRACTICE — NOT A PRODUCTION CEREMONY');
      expect(page).toContain(`page ${i + 1} of ${pages.length}`);
      expect(page).toContain('The signed JSON transcript is the record; this page is its printout.');
    }
    const all = pages.join('\n');
    for (const words of ['Alice Admin', 'Walter Witness', 'Zoë Lukasiewicz', 'Ota ??', SCRIPT_SHA, file.digest, 'Completed', 'Done', 'Not reached', 'NOT MET', 'Met', '2026-11-30 17:01:05 UTC', 'A card was read twice.', 'the ceremony continued.', 'Signature']) {
      expect(all).toContain(words);
    }
  });

  it('a production run carries no PRACTICE banner', async () => {
    const { pdf } = await written(body(false));
    expect(pdfPages(pdf).join('\n')).not.toContain('PRACTICE');
  });

  it('characters the PDF fonts lack are transliterated or shown as ?, never dropped', () => {
    expect(toWinAnsi('Zoë Łukasiewicz, Ōta 太郎, ﬁle, “quoted” — €5\tend')).toBe('Zoë Lukasiewicz, Ota ??, file, “quoted” — €5 end');
  });
});
