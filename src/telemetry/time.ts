/** Time helpers. All times are ms since the Unix epoch, UTC. */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses "5m", "30s", "1h", "250ms", "1.5h" or a bare number of milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) throw new RangeError(`not a duration: "${text}" (expected e.g. 5m, 30s, 1h, 250ms)`);
  const ms = Number(m[1]) * UNIT_MS[m[2] ?? 'ms'];
  if (!(ms > 0)) throw new RangeError(`duration must be positive: "${text}"`);
  return ms;
}

export function formatDuration(ms: number): string {
  for (const [u, f] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= f && ms % f === 0) return `${ms / f}${u}`;
  }
  return `${ms}ms`;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** Nanoseconds since the epoch, as a decimal string (exact) or number, to ms. */
export function nanosToMs(nanos: string | number | bigint): number {
  if (typeof nanos === 'number') return nanos / 1e6;
  if (typeof nanos === 'bigint') return Number(nanos / 1000n) / 1000;
  const s = nanos.trim();
  // Keep precision: split off the last 6 digits instead of going through a float of 1e18.
  if (s.length > 6) return Number(s.slice(0, -6)) + Number(s.slice(-6)) / 1e6;
  return Number(s) / 1e6;
}

/** ms to a nanosecond decimal string, exact for integer microseconds. */
export function msToNanos(ms: number): string {
  const whole = Math.floor(ms);
  const frac = Math.round((ms - whole) * 1e6);
  if (frac >= 1e6) return String(whole + 1) + '000000';
  return String(whole) + String(frac).padStart(6, '0');
}
