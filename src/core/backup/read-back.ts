// A backup's read-back, overlapped with its writing: each whole block of the file is read back from
// the medium itself (flushed first, then O_DIRECT; media.ts) and its records checked while the HSM
// still wraps the keys of the blocks after it (a bad medium stops the backup early). Once the file
// is committed (flush, rename, folder flush), its last block is read back and the records and
// digests checked, and then every byte is read back once more and its SHA-256 compared: what a
// medium did to the blocks during the commit is caught too (docs: write, flush, rename, flush the
// folder, then read back).
import type { Verdict } from './format';
import { GrowingFileCheck } from './format';
import { type AtomicFile, READ_BACK_BLOCK, digestFromMedium, readBlocksFromMedium } from './media';

/**
 * The read-back of one backup file as it is written (`written`), and its verdict once it is
 * committed (`verdict`). `settle` waits for a read under way (before the file is committed or removed).
 */
export class ReadBack {
  private readonly check: GrowingFileCheck;
  /** The blocks read back and added to `check`: the file's first `blocks * READ_BACK_BLOCK` bytes. */
  private blocks = 0;
  private reading: Promise<void> | null = null;
  private failure: { error: unknown } | null = null;

  /** `expected`: about how many bytes the file will have. */
  constructor(
    private readonly file: AtomicFile,
    expected: number,
  ) {
    this.check = new GrowingFileCheck(expected);
  }

  /**
   * The file's first `total` bytes are written: the whole blocks among them not read back yet are
   * flushed and read back, unless a read-back is still under way (the next call takes them).
   * @throws what the last read-back failed with (MEDIA_ERROR), so the backup stops at once
   */
  written(total: number): void {
    if (this.failure) throw this.failure.error;
    const upTo = Math.floor(total / READ_BACK_BLOCK);
    if (this.reading || upTo <= this.blocks) return;
    const first = this.blocks;
    this.reading = (async () => {
      await this.file.flush();
      const { bytes } = await readBlocksFromMedium(this.file.temp, first, upTo - first);
      this.check.add(bytes);
      this.blocks = upTo;
    })()
      .catch((error: unknown) => {
        this.failure = { error };
      })
      .finally(() => {
        this.reading = null;
      });
  }

  /** Waits for a read-back under way: before the file is committed, or removed. */
  async settle(): Promise<void> {
    await this.reading;
  }

  /**
   * Once the file is committed at `path`: the rest of it (from the first block not read back to its
   * end) read back from the medium, then the verdict on the whole file as the medium gave it, then
   * every byte read back once more (digestFromMedium): a different SHA-256 or size is a bad verdict.
   * @throws TesseraError MEDIA_ERROR when a part could not be read back
   */
  async verdict(path: string): Promise<Verdict> {
    await this.settle();
    if (this.failure) throw this.failure.error;
    const { bytes } = await readBlocksFromMedium(path, this.blocks, null);
    this.check.add(bytes);
    const verdict = await this.check.verdictAsync();
    if (!verdict.valid) return verdict;
    const again = await digestFromMedium(path);
    if (again.sha256 !== verdict.backup.sha256 || again.size !== verdict.backup.size) {
      return { valid: false, problem: 'the file read back after it was committed differs from the file read back while it was written', header: verdict.backup.header };
    }
    return verdict;
  }
}
