// The GUI's one scripted ceremony at a time: which scripts it may open (YAML files on the media the
// terminal offers, and the examples shipped with Tessera; never any other path a window names), the
// run in progress, and its changes pushed to the window. The CLI holds its ScriptRun directly.
import { access, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { TesseraError } from '../errors';
import type { MediaView } from '../../shared/types';
import type { ScriptFileView, ScriptRunView } from '../../shared/script-run';
import type { ScriptRun, ScriptSource } from './script-run';
import { MAX_SCRIPT_BYTES } from './script';

const SCRIPT_FILE = /\.ya?ml$/i;

export class ScriptDesk {
  private run: ScriptRun | null = null;
  private stopWatch: (() => void) | null = null;
  private readonly listeners = new Set<(view: ScriptRunView) => void>();

  /**
   * @param openScript opens a script for the chosen partition (Terminal.record.openScript)
   * @param media the media the terminal offers (removable drives and the lab's stand-in)
   * @param examples the folder of the scripts shipped with Tessera, or null
   */
  constructor(
    private readonly openScript: (source: ScriptSource, practice: boolean) => Promise<ScriptRun>,
    private readonly media: () => Promise<MediaView[]>,
    private readonly examples: string | null,
  ) {}

  /** The scripts on the offered media (top level) and the shipped examples, by name. */
  async list(): Promise<ScriptFileView[]> {
    const out: ScriptFileView[] = [];
    for (const m of await this.media()) {
      const names = await readdir(m.path).catch(() => [] as string[]);
      for (const name of names.filter((n) => SCRIPT_FILE.test(n)).sort()) out.push({ path: join(m.path, name), name, source: 'media', where: m.label });
    }
    if (this.examples && (await access(this.examples).then(() => true, () => false))) {
      for (const name of (await readdir(this.examples)).filter((n) => SCRIPT_FILE.test(n)).sort()) out.push({ path: join(this.examples, name), name, source: 'example', where: 'Examples shipped with Tessera' });
    }
    return out;
  }

  /**
   * Opens a listed script (read, parsed, preconditions checked) as the run in progress.
   * @throws TesseraError INVALID_REQUEST when the path is not one `list` offers or a run is under
   *   way; SCRIPT_INVALID naming the lines; what ScriptRun.open throws.
   */
  async open(path: string, practice: boolean): Promise<ScriptRunView> {
    const open = this.run?.view();
    // A run that has begun keeps the desk until its transcript is written (a stopped or cancelled one too).
    if (this.run && open && open.waiting !== 'begin' && open.waiting !== 'ended') {
      throw new TesseraError('INVALID_REQUEST', `The ceremony “${this.run.script.title}” has begun and its transcript is not written yet. Finish it (or cancel it and sign its transcript) first.`);
    }
    if (!(await this.list()).some((f) => f.path === path)) throw new TesseraError('INVALID_REQUEST', 'Open a script from the media or the examples the terminal lists.');
    const run = await this.openScript({ text: await readScriptFile(path), path }, practice);
    this.put(run);
    return run.view();
  }

  current(): ScriptRunView | null {
    return this.run?.view() ?? null;
  }

  /**
   * The run named `id`, to act on.
   * @throws TesseraError INVALID_REQUEST when it is not the run in progress.
   */
  with(id: string): ScriptRun {
    if (!this.run || this.run.id !== id) throw new TesseraError('INVALID_REQUEST', 'That ceremony is not the one open. Open it again.');
    return this.run;
  }

  /** Puts the ended (or not begun) run aside; one under way must be cancelled first. */
  close(id: string): null {
    const run = this.with(id);
    const v = run.view();
    if (v.waiting !== 'begin' && v.waiting !== 'ended') throw new TesseraError('INVALID_REQUEST', 'The ceremony is under way: cancel it first (its transcript is still written).');
    this.put(null);
    return null;
  }

  onChange(listener: (view: ScriptRunView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** At the terminal's close. */
  dispose(): void {
    this.put(null);
  }

  private put(run: ScriptRun | null): void {
    this.stopWatch?.();
    this.run?.close();
    this.run = run;
    this.stopWatch = run ? run.onChange((view) => this.listeners.forEach((l) => l(view))) : null;
  }
}

/**
 * A script file's text, bounded (the parser refuses more than MAX_SCRIPT_BYTES in its own words).
 * @throws TesseraError MEDIA_ERROR when it cannot be read.
 */
export async function readScriptFile(path: string): Promise<string> {
  try {
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(MAX_SCRIPT_BYTES + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      return buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TesseraError('MEDIA_ERROR', code === 'ENOENT' ? `There is no such script: ${path}.` : `The script cannot be read: ${path}.`, code);
  }
}
