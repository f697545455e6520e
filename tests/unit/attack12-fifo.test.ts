// Attack 12: the offline verifiers given a named pipe waited forever for a writer.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readExportFile } from '../../src/core/record/audit-export';
import { verifyTranscriptFile } from '../../src/core/record/transcript';

const dir = mkdtempSync(join(tmpdir(), 'attack12-fifo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fifo = join(dir, 'pipe.transcript.json');
execFileSync('mkfifo', [fifo]);

describe('attack12: a named pipe given to the offline verifiers', () => {
  it('ceremony verify refuses it as not a file, at once', async () => {
    expect(await verifyTranscriptFile(fifo)).toMatchObject({ valid: false, problem: 'That is not a file: give the .transcript.json file.' });
  }, 3000);

  it('audit verify-export refuses it as not a file, at once', async () => {
    await expect(readExportFile(fifo)).rejects.toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining('That is not a file') });
  }, 3000);
});
