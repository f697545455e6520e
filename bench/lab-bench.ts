// What every benchmark starts with: the training lab up and this process pointed at it.
import { applyLabEnvironment, findLabProfile } from '../src/core/config/lab-profile';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Lab } from '../tests/lab/lab';

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export async function labForBench(): Promise<{ lab: Lab; modulePath: string }> {
  const lab = new Lab();
  await lab.up();
  const profile = findLabProfile();
  if (!profile) throw new Error('lab profile missing after `lab up`');
  applyLabEnvironment(profile);
  return { lab, modulePath: profile.modulePath };
}

/**
 * The longest stall of the main event loop (ms) in each phase of a piece of work, phases named by
 * the caller as they begin (e.g. a ceremony's prompts). Stalls are measured by
 * `monitorEventLoopDelay` at 2 ms resolution; target: none above 50 ms.
 */
export class PhaseStalls {
  private readonly histogram = monitorEventLoopDelay({ resolution: 2 });
  private current: string | null = null;
  readonly phases: { name: string; ms: number }[] = [];

  /** Ends the running phase (if any) and starts `name`. */
  phase(name: string): void {
    this.end();
    this.current = name;
    this.histogram.reset();
    this.histogram.enable();
  }

  /** Ends the running phase. */
  end(): void {
    if (this.current === null) return;
    this.histogram.disable();
    const ms = this.histogram.max / 1e6;
    const same = this.phases.find((p) => p.name === this.current);
    if (same) same.ms = Math.max(same.ms, ms);
    else this.phases.push({ name: this.current, ms });
    this.current = null;
  }

  /** The longest stall of all phases, in ms. */
  max(): number {
    return Math.max(0, ...this.phases.map((p) => p.ms));
  }

  /** One line per phase: the longest stall and whether it meets the 50 ms target. */
  report(indent = '    '): string {
    return this.phases.map((p) => `${indent}${p.ms.toFixed(1).padStart(6)} ms  ${p.ms < 50 ? 'ok  ' : 'OVER'}  ${p.name}`).join('\n');
  }
}
