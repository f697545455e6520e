// Prints why a test was skipped (the list reporter shows only that it was), so the Electron
// spec's reason is visible in every run.
import type { Reporter, TestCase, TestResult } from '@playwright/test/reporter';

export default class SkipReasons implements Reporter {
  private readonly skipped: string[] = [];

  onTestEnd(test: TestCase, result: TestResult): void {
    if (result.status !== 'skipped') return;
    const reasons = test.annotations.filter((a) => a.type === 'skip').map((a) => a.description ?? 'no reason given');
    this.skipped.push(`SKIPPED ${test.title}: ${reasons.join('; ')}`);
  }

  onEnd(): void {
    for (const line of this.skipped) console.log(line);
  }

  printsToStdio(): boolean {
    return true;
  }
}
