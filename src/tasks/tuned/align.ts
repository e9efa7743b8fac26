/**
 * Moving a timeline's columns into a saved frame (each column's median and robust spread over the
 * tuning data), label-free: the evidence detector's rows of a new run (encode fits their
 * references on the data being judged), and the features detector's rows of another recording
 * period (`alignPeriods`). docs/tasks.md, "For use" and "Another period".
 */
import { quantile } from '../../stats/index.js';
import { periodsOf } from '../../windows/index.js';

export interface ColumnFrame {
  center: (number | null)[];
  spread: (number | null)[];
}

/** A column needs this many values in a timeline before `alignEvidence` moves it. */
export const EVIDENCE_ALIGN_MIN = 30;

/** Per column, the median and the scaled MAD of the finite values over the rows that exist (NaN with fewer than EVIDENCE_ALIGN_MIN values; spread NaN where the MAD is 0). */
export function columnFrame(rows: readonly (Float64Array | undefined)[]): { center: number[]; spread: number[] } {
  const width = rows.find((r) => r)?.length ?? 0;
  const center: number[] = [];
  const spread: number[] = [];
  for (let j = 0; j < width; j++) {
    const col: number[] = [];
    for (const r of rows) if (r && Number.isFinite(r[j])) col.push(r[j]);
    if (col.length < EVIDENCE_ALIGN_MIN) {
      center.push(NaN);
      spread.push(NaN);
      continue;
    }
    // the median absolute deviation alone: a mean of deviations (robustScale's floor) follows
    // the fault windows' tails, which differ from one timeline to the next
    const m = quantile(col, 0.5);
    const mad = 1.4826 * quantile(col.map((v) => Math.abs(v - m)), 0.5);
    center.push(m);
    spread.push(mad > 0 ? mad : NaN);
  }
  return { center, spread };
}
const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);
export const frameJSON = (f: { center: number[]; spread: number[] }): ColumnFrame => ({ center: f.center.map(finiteOrNull), spread: f.spread.map(finiteOrNull) });

/**
 * Evidence rows of a new timeline in the tuning data's frame. Encode fits the evidence
 * references on the data being judged, so a deviation column's typical level is partly an
 * artefact of that fit (a call-outcome z whose normal value is −0.12 with a spread of 0.03 on
 * one run, −0.47 and ten times wider on the next): measured on a held-out simulator run,
 * unaligned rows made every window alarm. Each column is moved so that its median and robust
 * spread over the timeline's windows (no labels read; faults, a minority of windows, move both
 * little) equal those over the tuning data. On the tuning data itself this is the identity.
 * `spread` absent or a column without a finite own spread: shifted only.
 */
export function alignEvidence(rows: readonly (Float64Array | undefined)[], center: readonly (number | null)[], spread?: readonly (number | null)[]): (Float64Array | undefined)[] {
  const own = columnFrame(rows);
  const ratio = center.map((_, j) => {
    const t = spread?.[j];
    const o = own.spread[j];
    return t !== null && t !== undefined && Number.isFinite(o) && o > 0 ? t / o : 1;
  });
  const move = (v: number, j: number) => {
    const c = center[j];
    if (c === null || c === undefined || !Number.isFinite(own.center[j])) return v;
    return c + (v - own.center[j]) * ratio[j];
  };
  return rows.map((r) => r && Float64Array.from(r, move));
}


/**
 * Rows of a timeline with each recording period (`periodsOf`) moved into `frame` on its own, so
 * that what sets a window apart is what stands out within its period, not that period's level
 * (another day's load, other pod names). One period and `always` false: the rows as they are
 * (the frame of one period is its own, and moving it would only add rounding).
 */
export function alignPeriods(windows: readonly { start: number; source: string }[], rows: readonly (Float64Array | undefined)[], frame: ColumnFrame, always = false): (Float64Array | undefined)[] {
  const periods = periodsOf(windows);
  if (periods.length <= 1 && !always) return [...rows];
  const out = [...rows];
  for (const p of periods) {
    const moved = alignEvidence(p.map((i) => rows[i]), frame.center, frame.spread);
    p.forEach((i, t) => (out[i] = moved[t]));
  }
  return out;
}
