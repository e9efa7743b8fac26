/**
 * What the top suspect's evidence says, as named numbers for the fault-type classifier: which
 * evidence families fire on the localizer's first suspect and how strongly. A network delay shows
 * as edge gaps into the suspect, a CPU fault as its resources, an exception as its log templates
 * and call outcomes — the kind of evidence is close to the kind of fault, and it is label-free
 * (the localizer's output for the case's own window).
 *
 *   const features = suspectFeatures(prepared.rank(range));   // { 'z:edge-gap': 7.1, … }
 *
 * Grid sources (the evidence localizer): one entry per family, `z:<family>`, the family's
 * calibrated z on the suspect. Case sources (AIOps 2022 events): `<family>:<kpi or template>`,
 * the suspect service's events weighted by their IDF, summed over its pods. Values are
 * compressed, sign(v)·ln(1 + |v|): calibrated z reach hundreds on a CPU hog and a handful on a
 * template change, and both mean "fires". A family or KPI without a value is 0 in a row (no
 * evidence is what a calibrated z of 0 says, and an absent KPI had no events).
 */
import type { EventRanking, Ranking } from '../localize/index.js';

export type SuspectFeatures = Record<string, number>;

export function suspectFeatures(r: Ranking | EventRanking | undefined): SuspectFeatures | undefined {
  const top = r?.services[0];
  if (!top) return undefined;
  const out: SuspectFeatures = {};
  if ('evidence' in top) {
    for (const e of top.evidence) if (Number.isFinite(e.z)) out[`z:${e.family}`] = Math.max(out[`z:${e.family}`] ?? -Infinity, e.z);
  } else {
    for (const it of top.items) {
      const k = `${it.family}:${it.kpi}`;
      out[k] = (out[k] ?? 0) + it.events * it.idf;
    }
  }
  for (const k of Object.keys(out)) out[k] = Math.sign(out[k]) * Math.log1p(Math.abs(out[k]));
  return out;
}

/** A fixed layout over the names seen (sorted), for rows; a name never seen stays out. */
export function suspectLayout(all: readonly (SuspectFeatures | undefined)[]): string[] {
  const names = new Set<string>();
  for (const f of all) if (f) for (const k of Object.keys(f)) names.add(k);
  return [...names].sort();
}

/** The row of one case in a layout (a name without a value: 0, no evidence). */
export function suspectRow(f: SuspectFeatures | undefined, layout: readonly string[]): Float64Array | undefined {
  if (!f) return undefined;
  return Float64Array.from(layout, (k) => f[k] ?? 0);
}
