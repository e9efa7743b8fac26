/**
 * Number parsing straight from a line's characters, so the hot readers need no substring per
 * numeric field. Each falls back to `Number()` on anything but plain digits.
 */

/** Unsigned decimal integer in line[s, e); NaN when empty. */
export function intField(line: string, s: number, e: number): number {
  if (e <= s) return NaN;
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = line.charCodeAt(i) - 48;
    if (d < 0 || d > 9) {
      const t = line.slice(s, e).trim();
      return t === '' ? NaN : Number(t);
    }
    v = v * 10 + d;
  }
  return v;
}

/**
 * Integer nanoseconds since the epoch in line[s, e) to ms, keeping sub-ms precision: a float
 * of 1e18 would lose it, so the last six digits are added as a fraction.
 */
export function nanosFieldToMs(line: string, s: number, e: number): number {
  const n = e - s;
  if (n <= 6) return intField(line, s, e) / 1e6;
  const whole = intField(line, s, e - 6);
  const frac = intField(line, e - 6, e);
  return whole + frac / 1e6;
}

/** A metric cell: empty or unparseable means missing (NaN), never 0. */
export function floatField(line: string, s: number, e: number): number {
  if (e <= s) return NaN;
  const v = Number(line.slice(s, e));
  // Number('  ') is 0: only a cell with a digit in it may be a number.
  if (v === 0 && !/\d/.test(line.slice(s, e))) return NaN;
  return v;
}

/**
 * Epoch timestamps of unknown unit (s, ms, µs or ns) to ms, judged by magnitude: seconds of
 * this era are ~1.7e9, ms ~1.7e12, µs ~1.7e15, ns ~1.7e18.
 */
export function epochToMs(v: number): number {
  if (v < 1e11) return v * 1000;
  if (v < 1e14) return v;
  if (v < 1e17) return v / 1000;
  return v / 1e6;
}
