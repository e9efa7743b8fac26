import { isoTime } from '../../telemetry/index.js';
import type { ProblemLog } from '../../telemetry/index.js';
import { dayStartMs } from './layout.js';

/**
 * Nezha files carry two clocks per row (metric: `Time` text and `TimeStamp` epoch s; log:
 * `Timestamp` text and `TimeUnixNano`; trace: `StartTimeUnixNano` and `EndTimeUnixNano −
 * Duration`). The public release has a metric file whose every TimeStamp is 200,000,000 s
 * ahead of its Time, so neither clock is trusted alone: rows whose clocks disagree are repaired
 * from the other clock or dropped, and rows outside their day folder's date are dropped, each
 * reported once per file.
 */

/** Clocks further apart than this disagree (metric Time and TimeStamp differ by < 1 s). */
export const CLOCK_TOLERANCE_MS = 5 * 60_000;
/** Disagreements within this spread count as one consistent offset. */
const OFFSET_SPREAD_MS = 2_000;
const DAY_MS = 86_400_000;
/** A day folder's rows may run this far before and after its date (exports cross midnight). */
export const DAY_MARGIN_MS = DAY_MS;

/** The times a day folder's rows may have: [its 00:00 − 1 day, its 24:00 + 1 day). */
export interface DayBounds {
  day: string;
  lo: number;
  hi: number;
}

export function dayBounds(day: string): DayBounds {
  const start = dayStartMs(day);
  // A day that does not parse never comes from the layout; bounds that admit all keep old behaviour.
  if (!Number.isFinite(start)) return { day, lo: -Infinity, hi: Infinity };
  return { day, lo: start - DAY_MARGIN_MS, hi: start + DAY_MS + DAY_MARGIN_MS };
}

/** n decimal digits at line[i...], NaN when any is not a digit. */
function digits(line: string, i: number, n: number): number {
  let v = 0;
  for (let k = i; k < i + n; k++) {
    const d = line.charCodeAt(k) - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return v;
}

// The last date converted: rows of a file share their date, and Date.UTC per row would cost
// more than all the rest of the parse.
let cachedDate = -1;
let cachedDateMs = 0;

/**
 * `YYYY-MM-DD[ T]HH:MM:SS[.fraction]` at line[s, e) to ms, UTC unless followed by a numeric
 * zone (`Z`, ` +0000 UTC m=+…` and nothing all mean UTC). Read at fixed positions: it runs on
 * every log row, where a regex would cost more than the rest of the row's checks.
 */
export function textTimeMs(line: string, s: number, e: number): number {
  if (e - s < 19) return NaN;
  const sep = line.charCodeAt(s + 10);
  if (line.charCodeAt(s + 4) !== 45 || line.charCodeAt(s + 7) !== 45 || line.charCodeAt(s + 13) !== 58 || line.charCodeAt(s + 16) !== 58 || (sep !== 32 && sep !== 84)) return NaN;
  const y = digits(line, s, 4);
  const mo = digits(line, s + 5, 2);
  const d = digits(line, s + 8, 2);
  const h = digits(line, s + 11, 2);
  const mi = digits(line, s + 14, 2);
  const sec = digits(line, s + 17, 2);
  if (!(mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 24 && mi <= 59 && sec <= 60) || y !== y) return NaN;
  const date = (y * 100 + mo) * 100 + d;
  if (date !== cachedDate) {
    cachedDateMs = Date.UTC(y, mo - 1, d);
    cachedDate = date;
  }
  let ms = cachedDateMs + h * 3_600_000 + mi * 60_000 + sec * 1000;
  let i = s + 19;
  if (i < e && line.charCodeAt(i) === 46) {
    // fraction of a second: as integer digits, scaled once (9 digits stay exact in a double)
    let frac = 0;
    let scale = 1;
    for (i++; i < e; i++) {
      const x = line.charCodeAt(i) - 48;
      if (x < 0 || x > 9) break;
      if (scale < 1e9) {
        frac = frac * 10 + x;
        scale *= 10;
      }
    }
    ms += (frac * 1000) / scale;
  }
  if (i < e && line.charCodeAt(i) === 32) i++;
  if (i < e) {
    const c = line.charCodeAt(i);
    if (c === 43 || c === 45) {
      const zh = digits(line, i + 1, 2);
      const zm = line.charCodeAt(i + 3) === 58 ? digits(line, i + 4, 2) : digits(line, i + 3, 2);
      if (zh === zh && zm === zm) ms -= (c === 45 ? -1 : 1) * (zh * 60 + zm) * 60_000;
    }
  }
  return ms;
}

/** Offsets beyond the tolerance are minutes or more: whole seconds say enough. */
const seconds = (ms: number) => String(Math.round(ms / 1000));

/**
 * Per-file tally of rows whose clocks disagree or that lie outside their day, so that a file
 * gets one report per kind of trouble rather than one per row.
 */
export class ClockTally {
  /** rows whose clocks disagree by more than CLOCK_TOLERANCE_MS */
  disagree = 0;
  /** of those, rows whose time was taken from the other clock */
  repaired = 0;
  /** rows dropped because their clocks disagree (and no repair was sure) */
  dropped = 0;
  /** rows kept on their primary clock, which lies within the day while the other does not */
  kept = 0;
  /** rows dropped because both clocks (or the only one) lie outside the day bounds */
  outside = 0;
  private minOff = Infinity;
  private maxOff = -Infinity;
  private firstDisagree = 0;
  private firstOutside = 0;
  private outsideExample = NaN;

  constructor(
    readonly bounds: DayBounds,
    /** the clock read first, e.g. "TimeStamp" */
    readonly primary: string,
    /** the clock it is checked against, e.g. "Time" */
    readonly secondary: string,
  ) {}

  inDay(t: number): boolean {
    return t >= this.bounds.lo && t < this.bounds.hi;
  }

  /** A row whose primary clock is `offsetMs` ahead of its secondary one (beyond tolerance). */
  noteDisagree(offsetMs: number, line: number): void {
    if (this.disagree++ === 0) this.firstDisagree = line;
    if (offsetMs < this.minOff) this.minOff = offsetMs;
    if (offsetMs > this.maxOff) this.maxOff = offsetMs;
  }

  noteOutside(t: number, line: number): void {
    if (this.outside++ === 0) {
      this.firstOutside = line;
      this.outsideExample = t;
    }
  }

  /** Whether every disagreeing row so far is off by the same amount. */
  consistent(): boolean {
    return this.disagree > 0 && this.maxOff - this.minOff <= OFFSET_SPREAD_MS;
  }

  /** One problem per kind of trouble found in the file (none when the file was fine). */
  report(problems: ProblemLog, rel: string): void {
    if (this.disagree > 0) {
      const p = this.primary;
      const q = this.secondary;
      let what: string;
      if (this.consistent()) {
        const off = (this.minOff + this.maxOff) / 2;
        what = `${p} is ${seconds(Math.abs(off))} s ${off >= 0 ? 'ahead of' : 'behind'} ${q} on ${this.disagree} row(s) (first line ${this.firstDisagree})`;
      } else {
        what = `${p} and ${q} disagree by ${seconds(this.minOff)} … ${seconds(this.maxOff)} s on ${this.disagree} row(s) (first line ${this.firstDisagree})`;
      }
      const parts: string[] = [];
      if (this.repaired > 0) parts.push(this.repaired === this.disagree ? `repaired from ${q}` : `${this.repaired} repaired from ${q}`);
      if (this.dropped > 0) parts.push(`${this.dropped} dropped (no unambiguous time)`);
      if (this.kept > 0) parts.push(`${this.kept} kept on ${p} (within the day)`);
      problems.add(rel, 0, `${what}; ${parts.join(', ')}`, 'clock');
    }
    if (this.outside > 0) {
      const example = Number.isFinite(this.outsideExample) && Math.abs(this.outsideExample) < 8.64e15 ? `, e.g. ${isoTime(this.outsideExample)}` : '';
      problems.add(
        rel,
        0,
        `${this.outside} row(s) with times outside the day folder's date ${this.bounds.day} ± 1 day (first line ${this.firstOutside}${example}); dropped`,
        'time',
      );
    }
  }
}
