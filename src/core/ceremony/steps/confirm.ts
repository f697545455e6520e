// Step: the officers confirm a change that the words name exactly (what will change, on which
// partition), on a button that names it too. Nothing destructive happens without it.
import type { CeremonyRun } from '../run';

/** Waits for the officers' confirmation of `text`; the button says `label`. */
export async function confirm(run: CeremonyRun, text: string, label: string): Promise<void> {
  await run.ask({ kind: 'confirm', text, confirmLabel: label }, 'confirm');
}
