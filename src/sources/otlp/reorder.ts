/**
 * Restores time order over records that arrive only roughly ordered (collector files hold each
 * export batch as it came, resources one after another). Records wait in a buffer until the
 * newest time seen is `horizonMs` past them; with a horizon at least as large as the measured
 * lateness of the input, the output is sorted. Memory: the records of one horizon (plus one
 * batch), never the file.
 */
export class ReorderBuffer<T> {
  private items: T[] = [];
  private maxSeen = -Infinity;
  /** newest time handed out so far */
  private maxOut = -Infinity;
  private nextCheck: number;
  lateDropped = 0;
  /** most records held at once: what the buffer cost in memory */
  peak = 0;

  /**
   * @param horizonMs how long a record waits for earlier ones
   * @param allowedDisorderMs how far behind the output a record may still come (the stream's
   *   disorderMs); a record later than that would break the ordering contract and is dropped
   * @param onLate told about each dropped record
   */
  constructor(
    private readonly timeOf: (x: T) => number,
    private readonly horizonMs: number,
    private readonly allowedDisorderMs: number,
    private readonly batch = 4096,
    private readonly onLate?: (x: T, behindMs: number) => void,
  ) {
    this.nextCheck = batch;
  }

  /** Adds a record; false when it came too late to be ordered and was dropped. */
  push(x: T): boolean {
    const t = this.timeOf(x);
    if (t < this.maxOut - this.allowedDisorderMs) {
      this.lateDropped++;
      this.onLate?.(x, this.maxOut - t);
      return false;
    }
    if (t > this.maxSeen) this.maxSeen = t;
    this.items.push(x);
    if (this.items.length > this.peak) this.peak = this.items.length;
    return true;
  }

  /** Records that can no longer be preceded by a later arrival, in time order; null if none yet. */
  take(): T[] | null {
    if (this.items.length < this.nextCheck) return null;
    const watermark = this.maxSeen - this.horizonMs;
    this.sort();
    // items are sorted: find the first one still inside the horizon
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timeOf(this.items[mid]) <= watermark) lo = mid + 1;
      else hi = mid;
    }
    const out = lo > 0 ? this.items.slice(0, lo) : null;
    if (out) this.items = this.items.slice(lo);
    // Re-sorting a large remainder after every batch would be quadratic: wait until it grows
    // by a batch or doubles, whichever is more.
    this.nextCheck = this.items.length + Math.max(this.batch, this.items.length);
    if (out) this.noteOut(out);
    return out;
  }

  /** Everything left, in time order. */
  drain(): T[] {
    this.sort();
    const out = this.items;
    this.items = [];
    this.nextCheck = this.batch;
    if (out.length > 0) this.noteOut(out);
    return out;
  }

  get size(): number {
    return this.items.length;
  }

  private sort(): void {
    const f = this.timeOf;
    // Array.prototype.sort is stable: records of equal time keep their input order.
    this.items.sort((a, b) => f(a) - f(b));
  }

  private noteOut(out: T[]): void {
    const t = this.timeOf(out[out.length - 1]);
    if (t > this.maxOut) this.maxOut = t;
  }
}

/**
 * Measures how late records arrive: the largest (newest time seen before a record) − (its
 * time). Zero for sorted input.
 */
export class LatenessMeter {
  min = Infinity;
  max = -Infinity;
  lateness = 0;
  count = 0;

  add(t: number): void {
    if (t > this.max) this.max = t;
    else if (this.max - t > this.lateness) this.lateness = this.max - t;
    if (t < this.min) this.min = t;
    this.count++;
  }
}
