import type { Problem, ProblemKind } from './types.js';

/** Examples kept per kind for summaries (`inspect` shows them). */
const EXAMPLES_PER_KIND = 5;
/**
 * Problems remembered for de-duplication: a command that reads a dataset several times (fit
 * pass, encode pass, references) meets the same bad record each time and must count it once.
 * Past this many distinct problems (a flood) later ones are counted without the check, so
 * memory stays bounded.
 */
const DEDUP_LIMIT = 100_000;

/**
 * Collects data problems without letting a bad file flood memory: every problem is counted,
 * the first `keep` are kept verbatim, and per kind the first few are kept as examples so a
 * summary can show every kind even when one kind floods `items`.
 */
export class ProblemLog {
  readonly items: Problem[] = [];
  private counts = new Map<string, number>();
  private kinds = new Map<ProblemKind, { count: number; examples: Problem[] }>();
  private seen = new Set<string>();
  total = 0;

  constructor(readonly keep = 1000) {}

  /** `kind` says what sort of problem it is; when omitted it is guessed from the reason. */
  add(file: string, line: number, reason: string, kind: ProblemKind = guessKind(reason)): void {
    const key = `${file}\u0000${line}\u0000${reason}`;
    if (this.seen.has(key)) return;
    if (this.seen.size < DEDUP_LIMIT) this.seen.add(key);
    this.total++;
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    const p: Problem = { file, line, reason, kind };
    if (this.items.length < this.keep) this.items.push(p);
    let k = this.kinds.get(kind);
    if (!k) this.kinds.set(kind, (k = { count: 0, examples: [] }));
    k.count++;
    if (k.examples.length < EXAMPLES_PER_KIND) k.examples.push(p);
  }

  /** Counts by reason, for summaries. */
  byReason(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /** Counts and the first few examples of each kind, most frequent kind first. */
  byKind(): { kind: ProblemKind; count: number; examples: Problem[] }[] {
    return [...this.kinds].map(([kind, v]) => ({ kind, count: v.count, examples: v.examples })).sort((a, b) => b.count - a.count || a.kind.localeCompare(b.kind));
  }
}

/** For callers that do not say: a best guess from the wording readers use. */
export function guessKind(reason: string): ProblemKind {
  const r = reason.toLowerCase();
  if (/gzip|zlib|truncat|damaged|unexpected end|crc|incorrect header check/.test(r)) return 'damaged-file';
  if (/cannot read|not valid json|malformed json|invalid json|not otlp|unrecognised|not an otlp/.test(r)) return 'unreadable-file';
  if (/header|missing column|no timestamp column/.test(r)) return 'layout';
  if (/clock|timestamp is|ahead of|behind|late record|earlier than records/.test(r)) return 'clock';
  if (/time/.test(r) && /valid|range|outside|negative|huge/.test(r)) return 'time';
  if (/fault|label|raw label|failure/.test(r)) return 'labels';
  if (/malformed|fields|quot|expected/.test(r)) return 'malformed-record';
  return 'other';
}
