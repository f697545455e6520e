// Attack 12: a transcript whose text says what was not signed (duplicate keys) must not verify.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keyFingerprint } from '../../src/core/audit/seal';
import { transcriptDigest, transcriptStatement, verifyTranscriptFile } from '../../src/core/record/transcript';
import { TRANSCRIPT_FORMAT, type TranscriptBody } from '../../src/shared/transcript';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const spki = key.publicKey.export({ format: 'der', type: 'spki' });
const T = '2026-11-30T17:00:00.000Z';

function body(): TranscriptBody {
  return {
    format: TRANSCRIPT_FORMAT, practice: true, title: 'Stop drill', script: { file: 'c.yaml', sha256: 'a'.repeat(64) },
    partition: { label: 'P', serial: 'S1', script: { label: 'P', serial: 'S1' } }, terminal: { installation: 'i', workstationUser: 'u' },
    roster: { administrator: 'Ann', witnesses: [], officers: [] }, preconditions: [], steps: [], exceptions: [],
    started: T, ended: T, outcome: 'stopped', audit: { from: 1, through: 2 },
  };
}

function transcriptText(): { dir: string; text: string } {
  const dir = mkdtempSync(join(tmpdir(), 'attack12-'));
  dirs.push(dir);
  const pdf = Buffer.from('%PDF-1.4 stand-in');
  writeFileSync(join(dir, 't.transcript.pdf'), pdf);
  const b = body();
  const digest = transcriptDigest(b);
  const pdfSha = createHash('sha256').update(pdf).digest('hex');
  const signature = sign('sha256', transcriptStatement(digest, pdfSha), { key: key.privateKey, dsaEncoding: 'ieee-p1363' }).toString('hex');
  const file = { format: TRANSCRIPT_FORMAT, transcript: b, digest, pdf: { file: 't.transcript.pdf', sha256: pdfSha }, signature: { statement: TRANSCRIPT_FORMAT, key: keyFingerprint(spki), publicKey: spki.toString('base64'), signature, partition: 'S1' } };
  return { dir, text: `${JSON.stringify(file, null, 2)}\n` };
}

describe('attack12: transcript text that is not what was signed', () => {
  it('the genuine text verifies', async () => {
    const { dir, text } = transcriptText();
    writeFileSync(join(dir, 't.transcript.json'), text);
    expect(await verifyTranscriptFile(join(dir, 't.transcript.json'), { signer: keyFingerprint(spki) })).toMatchObject({ valid: true, pdf: 'matches' });
  });

  it('duplicate keys (a first-wins reader sees a production ceremony that completed) are refused', async () => {
    const { dir, text } = transcriptText();
    const forged = text.replace('"practice": true,', '"practice": false, "title": "Real ceremony", "outcome": "completed",\n    "practice": true,');
    expect(forged).not.toBe(text);
    writeFileSync(join(dir, 't.transcript.json'), forged);
    const v = await verifyTranscriptFile(join(dir, 't.transcript.json'), { signer: keyFingerprint(spki) });
    expect(v.valid).toBe(false);
  });

  it('an escaped key spelling is refused', async () => {
    const { dir, text } = transcriptText();
    writeFileSync(join(dir, 't.transcript.json'), text.replace('"practice"', '"\\u0070ractice"'));
    expect((await verifyTranscriptFile(join(dir, 't.transcript.json'))).valid).toBe(false);
  });
});
