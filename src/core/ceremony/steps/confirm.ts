// Step: the officers confirm a change that the words name exactly (what will change, on which
// partition), on a button that names it too. Nothing destructive happens without it. And the
// briefing a ceremony starts with: who must be present, what it needs, what stops working.
import type { CeremonyRun } from '../run';

/**
 * Waits for the officers' confirmation of `text`; the button says `label`. `consequence` is
 * 'destroys' when the action destroys or replaces something (objects, a credential, a card's
 * enrolment): only then does the button look dangerous.
 */
export async function confirm(run: CeremonyRun, text: string, label: string, consequence: 'destroys' | 'keeps'): Promise<void> {
  await run.ask({ kind: 'confirm', text, confirmLabel: label, destroys: consequence === 'destroys' }, 'confirm');
}

/**
 * A ceremony's first step: `text` says who must be present (by name, with their cards), how many
 * blank cards it needs and what stops working afterwards, one line each; nothing is asked or
 * changed before the officers say they are ready.
 */
export async function briefing(run: CeremonyRun, text: string): Promise<void> {
  await run.ask({ kind: 'confirm', text, confirmLabel: 'The officers are here: go on', briefing: true }, 'confirm');
}
