// Step: multi-step changes recorded in the intent log. Each step is recorded (durably) before it is
// taken, with a named crash point after it for the kill tests, so the next start can finish or roll
// back what a crash interrupted (each ceremony's recovery, in the registry, reads these steps).
import type { Intent, IntentLog } from '../../store/intents';
import { crashPoint } from './crash-points';

export class IntentSteps<T> {
  private intent: Intent<T>;
  private open = true;

  /** Begins an intent of `kind` at `step`; crash point `${kind}:started`. */
  constructor(
    private readonly intents: IntentLog,
    kind: string,
    step: string,
    data: T,
  ) {
    this.intent = intents.begin(kind, step, data);
    crashPoint(`${kind}:started`);
  }

  get step(): string {
    return this.intent.step;
  }

  get data(): T {
    return this.intent.data;
  }

  /** Records `step` (and new data) before it is taken; then crash point `${kind}:${crash}` if named. */
  advance(step: string, data: T = this.intent.data, crash?: string): void {
    this.intent = this.intents.step(this.intent, step, data);
    if (crash) crashPoint(`${this.intent.kind}:${crash}`);
  }

  /**
   * An HSM change between two recorded steps: `before` is recorded, the change made, `after`
   * recorded, with crash points `${kind}:before-${name}` and `${kind}:after-${name}` around it.
   */
  hsm<R>(name: string, before: string, after: string, change: () => R): R {
    this.advance(before, this.intent.data, `before-${name}`);
    const result = change();
    // The change took effect but is not recorded yet: a crash "inside" the call, as far as the log can tell.
    crashPoint(`${this.intent.kind}:inside-${name}`);
    this.advance(after, this.intent.data, `after-${name}`);
    return result;
  }

  /** Ends the intent with its outcome (done, cancelled, failed, rolled-back…); once. */
  finish(outcome: string): void {
    if (!this.open) return;
    this.open = false;
    this.intents.finish(this.intent, outcome);
  }

  get finished(): boolean {
    return !this.open;
  }
}
