/** The probe report as a plain-text table. */
import { formatNotMeasurable } from './embedding-metrics.js';
import type { ProbeReport } from './probe.js';

function fmt(x: number | null): string {
  return x !== null && Number.isFinite(x) ? x.toFixed(3) : '—';
}

function pad(s: string, w: number, right = false): string {
  return right ? s.padStart(w) : s.padEnd(w);
}

/**
 * A plain-text table: one row per measure; columns n, chance, then one per embedder. A measure
 * below the minimums prints `not measurable (n=…, classes=…: why)` instead of any figure.
 */
export function formatProbeReport(r: ProbeReport): string {
  const head = ['measure', 'n', 'chance'];
  for (const e of r.embedders) head.push(e);
  const rows = r.measures.map((m) => {
    const row = [m.label, String(m.n)];
    if (m.notMeasurable) row.push(formatNotMeasurable(m.notMeasurable));
    else {
      row.push(fmt(m.chance));
      for (const e of r.embedders) row.push(fmt(m.values[e]));
    }
    return row;
  });
  // Widths from the full rows only: a not-measurable row's one long cell spans the figure columns.
  const widths = head.map((h) => h.length);
  for (const row of rows) for (let c = 0; c < row.length; c++) if (row.length === head.length || c < 2) widths[c] = Math.max(widths[c], row[c].length);
  const line = (cells: string[]) => cells.map((x, c) => (cells.length === head.length || c < 2 ? pad(x, widths[c], c > 0) : x)).join('  ');
  const out = [`${r.source} (${r.kind}, k=${r.k}; samples ${Object.entries(r.samples).map(([k, v]) => `${k}=${v}`).join(', ')})`, line(head), line(widths.map((w) => '-'.repeat(w)))];
  for (const row of rows) out.push(line(row));
  for (const n of r.notes) out.push(`note: ${n}`);
  return out.join('\n') + '\n';
}
