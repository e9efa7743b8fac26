/**
 * Pooled call outcomes over a query's slices (docs/localize.md, "Pooled counts"). The
 * call-outcome family tests an edge's bad calls against its normal share with the count's own
 * sampling spread (an exact binomial tail). Over a query of several slices, the sum of the
 * slices' counts is the test of "the edge went bad during the query" with every call in it:
 * a small effect — a delay or loss that slows one call in eight — leaves one or two bad calls
 * per slice, discrete z's that a combination of z's adds up poorly, while their sum over the
 * query is a clear tail. The sum also takes the luck out of a lone slice (one slow call of three
 * in the one slice where a quiet edge reached three calls is z 2.2 alone; 1 of 15 over the
 * query's five slices is not extreme), and an edge too quiet for `OUTCOME_MIN_CALLS` in any one
 * slice (two calls a minute) is judged over the query.
 *
 * Each slice's summary counts only calls that start inside it, so the sum counts each call
 * once. The pooled summary is scored like one slice and calibrated against the same
 * single-slice nulls: the binomial tail is on the N(0, 1) scale whatever the number of calls.
 */
import type { FamilyName, OutcomeSummary } from '../../encode/index.js';

/**
 * Families whose summaries are counts that add over slices (`poolSummaries`). Only call outcomes:
 * pooling the per-span log-template and span-structure counts as well was measured and not kept
 * (docs/localize.md "Pooled counts": it lifted callers' echoes of a return fault on Nezha).
 */
export const POOLED_FAMILIES: readonly FamilyName[] = ['call-outcome'];

export function poolOutcomes(sums: readonly OutcomeSummary[]): OutcomeSummary {
  const out: OutcomeSummary = new Map();
  for (const s of sums) for (const [k, e] of s) {
    const a = out.get(k);
    if (!a) {
      out.set(k, { ...e, gaps: [...e.gaps], durations: e.durations ? [...e.durations] : undefined });
      continue;
    }
    a.calls += e.calls;
    a.failed += e.failed;
    a.complained += e.complained;
    for (const g of e.gaps) a.gaps.push(g);
    a.errored = a.errored === undefined || e.errored === undefined ? undefined : a.errored + e.errored;
    a.durations = a.durations === undefined || e.durations === undefined ? undefined : [...a.durations, ...e.durations];
  }
  return out;
}

/** The sum of a pooled family's slice summaries; undefined for other families. */
export function poolSummaries(family: FamilyName, sums: readonly unknown[]): unknown {
  if (!sums.length) return undefined;
  if (family === 'call-outcome') return poolOutcomes(sums as OutcomeSummary[]);
  return undefined;
}
