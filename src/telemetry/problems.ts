import type { Problem } from './types.js';

/**
 * Collects data problems without letting a bad file flood memory: every problem is counted,
 * the first `keep` are kept verbatim.
 */
export class ProblemLog {
  readonly items: Problem[] = [];
  private counts = new Map<string, number>();
  total = 0;

  constructor(readonly keep = 1000) {}

  add(file: string, line: number, reason: string): void {
    this.total++;
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    if (this.items.length < this.keep) this.items.push({ file, line, reason });
  }

  /** Counts by reason, for summaries. */
  byReason(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
