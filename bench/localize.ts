/**
 * `npm run bench -- localize [--data DIR] [--only nezha|aiops22] [--window 2m] [--families a,b]
 * [--calibration auto|tail|robust] [--event-calibration none|robust|tail] [--event-families metric,log]
 * [--mean-abs] [--sidak-only] [--slice-rule stouffer|best]
 * [--verbose [--items]]`: the label-free
 * evidence localizer (src/tasks/) on the real data, AC@k and MRR at service and pod level, per
 * fault type. Labels are used only to pick the query windows and to score the ranking; the
 * references and nulls come from normal windows (docs/localize.md).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDataset } from '../src/sources/index.js';
import { parseDuration } from '../src/telemetry/index.js';
import { prepareLocalizer, rankCaseEvents, type EventFamily, type FamilyName } from '../src/tasks/index.js';
import { arg } from './util.js';

const DEFAULT_DATA = process.env.RS_DATASETS ?? fileURLToPath(new URL('../../shared/datasets', import.meta.url));

interface Case {
  type: string;
  serviceRank: number;
  podRank: number;
}

function rankOf(list: readonly string[], truth: string): number {
  const i = list.indexOf(truth);
  return i < 0 ? Infinity : i + 1;
}

function table(title: string, cases: readonly Case[], levels: ('serviceRank' | 'podRank')[]): void {
  const groups = new Map<string, Case[]>([['all', [...cases]]]);
  for (const c of cases) groups.set(c.type, [...(groups.get(c.type) ?? []), c]);
  console.log(`\n${title}`);
  console.log('| level | type | n | AC@1 | AC@3 | AC@5 | MRR |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const level of levels) for (const [type, cs] of groups) {
    const ac = (k: number) => (cs.filter((c) => c[level] <= k).length / cs.length).toFixed(3);
    const mrr = (cs.reduce((a, c) => a + (Number.isFinite(c[level]) ? 1 / c[level] : 0), 0) / cs.length).toFixed(3);
    console.log(`| ${level === 'serviceRank' ? 'service' : 'pod'} | ${type} | ${cs.length} | ${ac(1)} | ${ac(3)} | ${ac(5)} | ${mrr} |`);
  }
}

async function nezha(root: string, windowMs: number, verbose: boolean, args: string[]): Promise<void> {
  const t0 = performance.now();
  const ds = await loadDataset(root);
  const queries = ds.labels.map((l) => ({ start: l.start, end: l.start + windowMs }));
  const fam = arg(args, 'families', '');
  const cal = arg(args, 'calibration', '');
  const prep = await prepareLocalizer(ds, queries, {
    ...(fam ? { families: fam.split(',') as FamilyName[] } : {}),
    ...(cal === 'tail' || cal === 'robust' || cal === 'auto' ? { calibration: cal } : {}),
    ...(args.includes('--mean-abs') ? { madOnly: false } : {}),
    ...(args.includes('--sidak-only') ? { maxNull: false } : {}),
    ...(arg(args, 'slice-rule', '') === 'best' ? { sliceRule: 'best' as const } : {}),
  });
  const t1 = performance.now();
  const cases: Case[] = [];
  ds.labels.forEach((l, i) => {
    const r = prep.rank(queries[i]);
    const c = { type: l.type, serviceRank: rankOf(r.services.map((s) => s.service), l.rootCauseService), podRank: rankOf(r.pods.map((p) => p.pod), l.rootCause) };
    cases.push(c);
    if (verbose) {
      const top = r.services.slice(0, 3).map((s) => `${s.service.replace(/^ts-|-service$/g, '')}:${s.score.toFixed(1)}(${s.evidence[0].family}×${s.evidence[0].slices}${s.evidence[0].correction === 'max-null' ? 'e' : ''})`).join(' ');
      console.log(`${l.id} ${l.type.padEnd(14)} ${l.rootCauseService.replace(/^ts-|-service$/g, '').padEnd(18)} rank ${c.serviceRank}  ${top}`);
      if (args.includes('--items')) {
        const it = r.services[0].evidence[0].items[0];
        const truth = r.services.find((s) => s.service === l.rootCauseService);
        const ti = truth?.evidence.map((e) => `${e.family}:${e.z.toFixed(1)}`).join(' ');
        console.log(`    top item: ${it?.subject} ${it?.value.toFixed(2)} vs ${it?.reference.toFixed(2)} dev ${it?.deviation.toFixed(1)} | truth: ${ti}`);
      }
    }
  });
  const t2 = performance.now();
  console.log(`nezha-trainticket: ${ds.labels.length} faults, query [inject, inject + ${windowMs / 60_000} min) in 1-min slices; normal windows: ${prep.normalTraceWindows.length} trace/log, ${prep.normalMetricWindows} metric`);
  console.log(`time: prepare ${((t1 - t0) / 1000).toFixed(1)} s, rank ${((t2 - t1) / 1000).toFixed(1)} s`);
  table('nezha-trainticket, label-free evidence localizer', cases, ['serviceRank', 'podRank']);
}

async function aiops22(root: string, args: string[]): Promise<void> {
  const ds = await loadDataset(root);
  const cases = ds.cases ?? [];
  const cal = arg(args, 'event-calibration', '');
  const fams = arg(args, 'event-families', '');
  const ranked = rankCaseEvents(ds, cases.map((c) => c.id), {
    ...(cal === 'robust' || cal === 'tail' || cal === 'none' ? { calibrate: cal } : {}),
    ...(fams ? { families: fams.split(',') as EventFamily[] } : {}),
  });
  const out: Case[] = cases.map((c) => {
    const r = ranked.get(c.id)!;
    return { type: c.label.type, serviceRank: rankOf(r.services.map((s) => s.service), c.label.rootCauseService), podRank: rankOf(r.pods.map((p) => p.pod), c.label.rootCause) };
  });
  console.log(`\naiops22-pod: ${cases.length} cases (no fitting at all: IDF over cases is label-free, so no split is involved)`);
  table('aiops22-pod, metric events weighted by IDF', out, ['serviceRank', 'podRank']);
}

export default async function main(args: string[]): Promise<void> {
  const data = arg(args, 'data', DEFAULT_DATA);
  const only = arg(args, 'only', '');
  const windowMs = parseDuration(arg(args, 'window', '2m'));
  const verbose = args.includes('--verbose');
  const nz = join(data, 'nezha-trainticket');
  const ai = join(data, 'aiops22-pod');
  if (only !== 'aiops22') {
    if (existsSync(nz)) await nezha(nz, windowMs, verbose, args);
    else console.log(`skipped nezha-trainticket: ${nz} absent`);
  }
  if (only !== 'nezha') {
    if (existsSync(ai)) await aiops22(ai, args);
    else console.log(`skipped aiops22-pod: ${ai} absent`);
  }
}
