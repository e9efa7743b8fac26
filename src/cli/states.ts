import { resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { readRegimes, regimeOf } from '../eval/index.js';
import { loadCheckpoint, type Modality } from '../model/index.js';
import { checkOutput } from '../sources/index.js';
import { StatePartition, adjustedRandIndex, joinRows, rawMetricRows, stateRows, summarizeStates, type ClusterMethod, type StateSummary } from '../states/index.js';
import { UserError, formatDuration, isoTime } from '../telemetry/index.js';
import { addModelDataOptions, intArg, loadModelWindows, maskArg, modelWindowSpec, nonNegativeIntArg, positiveIntArg, run, showProgress, type CacheCliOptions } from './common.js';

interface StatesCliOptions extends CacheCliOptions {
  model?: string;
  data: string;
  k?: number;
  kMax: number;
  method: ClusterMethod;
  mask: Modality[];
  raw?: boolean;
  withRaw?: boolean;
  entities?: boolean;
  seed: number;
  clockSplit?: number;
  batch: number;
  window?: number;
  stride?: number;
  faultDuration: number;
  json?: boolean;
  out?: string;
}

/** The backbone raw-feature runs encode with when there is no model: its vectors are never read. */
const RAW_BACKBONE = 'hash:dim=8';

/** HH:MM (UTC) → minutes after midnight. */
function clockArg(value: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(value.trim());
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) throw new InvalidArgumentError(`expected a UTC time of day HH:MM, got "${value}"`);
  return Number(m[1]) * 60 + Number(m[2]);
}

export function register(program: Command): void {
  const states = program
    .command('states')
    .description('find runtime states without labels: cluster the windows\' state embeddings (k-means or a Gaussian mixture) and say what sets each state apart')
    .option('--model <file>', 'model checkpoint written by `train` (not needed with --raw)')
    .requiredOption('--data <path>', 'telemetry folder, or an encode output (.arrow) made with the model\'s backbone')
    .option('--k <n>', 'number of states (default: chosen over 2..--k-max by silhouette for kmeans, BIC for gmm)', intArg(1))
    .option('--k-max <n>', 'largest number of states tried when --k is not given', intArg(2), 8)
    .addOption(new Option('--method <method>', 'clustering').choices(['kmeans', 'gmm']).default('kmeans'))
    .option('--mask <modalities>', 'modalities treated as absent in every window, e.g. traces,logs (Nezha: they exist only near faults)', maskArg, [])
    .option('--raw', 'cluster the metrics view\'s raw features instead of the state embedding (no model needed)')
    .option('--with-raw', 'cluster the state embedding ⊕ the metrics view\'s raw features (needs --model)')
    .option('--entities', 'also encode each service\'s views, so the summary names the services that set a state apart')
    .option('--seed <n>', 'seed of the clustering', nonNegativeIntArg, 0)
    .option('--clock-split <HH:MM>', 'also compare the states with a before/after split of every day at this UTC time (ARI and shares)', clockArg)
    .option('--batch <n>', 'windows per forward pass', positiveIntArg, 1024);
  addModelDataOptions(states, { fallback: true })
    .option('--json', 'print the states as one JSON object')
    .option('--out <file>', 'save the fitted partition (JSON) for assigning new windows')
    .addHelpText(
      'after',
      '\nOn a simulator folder the adjusted Rand index against its regimes.json is reported.\n\nExamples:\n  runtimeslicer states --model model.rsm --data ../shared/datasets/nezha-trainticket --mask traces,logs --clock-split 16:00\n  runtimeslicer states --raw --data sim/ --method gmm --json',
    )
    .action((o: StatesCliOptions) => run(() => statesCommand(o)));
}

interface Comparison {
  ari: number;
  windows: number;
  /** Share of windows whose state's majority label is their own label — beside `chance`, the largest label's share (what one state would score). */
  purity: number;
  chance: number;
  shares: Record<string, number>[];
}

/**
 * How the states fall over a reference labelling: the ARI, and per state the share of each
 * label. ARI punishes splitting one label over several states; purity does not, so both are given.
 */
function compare(states: readonly number[], reference: readonly (string | undefined)[], k: number): Comparison {
  const a: number[] = [];
  const b: string[] = [];
  const counts = Array.from({ length: k }, () => new Map<string, number>());
  states.forEach((s, i) => {
    const r = reference[i];
    if (r === undefined) return;
    a.push(s);
    b.push(r);
    counts[s].set(r, (counts[s].get(r) ?? 0) + 1);
  });
  const shares = counts.map((m) => {
    const total = [...m.values()].reduce((x, y) => x + y, 0);
    return Object.fromEntries([...m.entries()].sort().map(([l, c]) => [l, total ? c / total : 0]));
  });
  let pure = 0;
  for (const m of counts) pure += Math.max(0, ...m.values());
  const overall = new Map<string, number>();
  for (const l of b) overall.set(l, (overall.get(l) ?? 0) + 1);
  const n = a.length;
  return { ari: adjustedRandIndex(a, b), windows: n, purity: n ? pure / n : NaN, chance: n ? Math.max(...overall.values()) / n : NaN, shares };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** `modalities`: false when only the metrics view was read (--raw), so traces/logs presence means nothing. */
function formatSummary(s: StateSummary, modalities: boolean): string[] {
  const longest = [...s.intervals].sort((a, b) => b.end - b.start - (a.end - a.start))[0];
  const lines = [
    `state ${s.state}: ${s.windows} windows (${pct(s.share)}), ${formatDuration(s.timeMs)} in ${s.intervals.length} interval${s.intervals.length === 1 ? '' : 's'}` +
      (longest ? `, longest ${isoTime(longest.start)} – ${isoTime(longest.end)}` : '') +
      `; abnormal ${pct(s.abnormalShare)}` +
      (modalities ? `; traces ${pct(s.presence.traces)}, logs ${pct(s.presence.logs)}` : ''),
  ];
  if (s.features.length) lines.push('  sets it apart: ' + s.features.map((f) => `${f.modality}.${f.feature} ${f.smd >= 0 ? '+' : ''}${f.smd.toFixed(2)}`).join(', '));
  if (s.services.length) lines.push('  services: ' + s.services.map((x) => `${x.service} (${x.top.modality}.${x.top.feature} ${x.top.smd >= 0 ? '+' : ''}${x.top.smd.toFixed(2)})`).join(', '));
  return lines;
}

async function statesCommand(o: StatesCliOptions): Promise<void> {
  const t0 = performance.now();
  if (!o.model && !o.raw) throw new UserError('states needs --model (or --raw to cluster the raw metrics features without one)');
  if (o.raw && o.withRaw) throw new UserError('--raw and --with-raw exclude each other: --raw clusters the raw features alone, --with-raw adds them to the state embedding');
  if (o.withRaw && !o.model) throw new UserError('--with-raw needs --model');
  if (o.k !== undefined && o.kMax !== 8) process.stderr.write('runtimeslicer: warning: --k-max is ignored when --k is given\n');
  // before any work: fail now if the partition cannot be written, and never replace an input
  const out = o.out ? checkOutput(o.out, [o.model, o.data]) : undefined;
  const ckpt = o.model ? await loadCheckpoint(o.model) : undefined;
  const spec = modelWindowSpec(o, ckpt?.header.window);
  const features = o.raw ? 'raw-metrics' : o.withRaw ? 'state-embedding+raw-metrics' : 'state-embedding';
  const all = await loadModelWindows(o.data, { ...o, ckpt, rawBackbone: RAW_BACKBONE, spec, show: showProgress(o.json) });
  let windows = all;
  let rows: Float32Array[];
  if (o.raw || o.withRaw) {
    const r = rawMetricRows(all);
    windows = r.keep.map((i) => all[i]);
    rows = o.withRaw ? joinRows(stateRows(ckpt!.model, windows, { mask: o.mask, batchSize: o.batch }), r.rows) : r.rows;
  } else {
    rows = stateRows(ckpt!.model, all, { mask: o.mask, batchSize: o.batch });
  }
  if (rows.length < 2) throw new UserError(`${o.data}: ${rows.length} window(s) with ${o.raw ? 'metrics' : 'data'}; states need at least 2`);
  const partition = StatePartition.fit(rows, {
    method: o.method,
    k: o.k,
    kMax: o.kMax,
    seed: o.seed,
    meta: {
      features,
      ...(o.model ? { model: resolve(o.model) } : {}),
      mask: o.mask,
      window: spec,
      data: resolve(o.data),
    },
  });
  const states = partition.labels;
  const summaries = summarizeStates(windows, states, { k: partition.k, strideMs: spec.strideMs });

  const regimes = await readRegimes(o.data);
  const regime = regimes ? compare(states, windows.map((w) => regimeOf(w.window, regimes)?.regime), partition.k) : undefined;
  let clock: Comparison | undefined;
  if (o.clockSplit !== undefined) {
    const split = o.clockSplit;
    // the window's middle decides which side of the split it is on
    clock = compare(states, windows.map((w) => {
      const mid = new Date((w.window.start + w.window.end) / 2);
      return mid.getUTCHours() * 60 + mid.getUTCMinutes() < split ? 'before' : 'after';
    }), partition.k);
  }
  if (out) await partition.save(out);

  const result = {
    windows: windows.length,
    skipped: all.length - windows.length,
    features,
    mask: o.mask,
    method: partition.method,
    k: partition.k,
    chosenBy: partition.chosenBy,
    scores: partition.scores,
    states: summaries,
    ...(regime ? { regimes: regime } : {}),
    ...(clock ? { clockSplit: { at: `${String(Math.floor(o.clockSplit! / 60)).padStart(2, '0')}:${String(o.clockSplit! % 60).padStart(2, '0')}`, ...clock } } : {}),
    ...(out ? { out } : {}),
    totalMs: performance.now() - t0,
  };
  if (o.json) {
    process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }
  const lines: string[] = [];
  const how =
    partition.chosenBy === 'given'
      ? 'k given'
      : `k by ${partition.chosenBy}: ${partition.scores.map((s) => `${s.k}→${partition.chosenBy === 'bic' ? s.score.toExponential(3) : s.score.toFixed(3)}`).join(' ')}`;
  lines.push(`${partition.k} states (${partition.method}, ${how}) over ${windows.length} windows of ${o.raw ? 'raw metrics features' : o.withRaw ? 'state embeddings ⊕ raw metrics features' : 'state embeddings'}${o.mask.length ? `, ${o.mask.join(',')} masked` : ''}${result.skipped ? `; ${result.skipped} windows without metrics left out` : ''}`);
  for (const s of summaries) lines.push(...formatSummary(s, !!ckpt));
  const table = (name: string, c: Comparison) => {
    lines.push(`${name}: adjusted Rand index ${Number.isFinite(c.ari) ? c.ari.toFixed(3) : 'n/a'}, purity ${pct(c.purity)} (one state: ${pct(c.chance)}) over ${c.windows} windows`);
    c.shares.forEach((sh, s) => lines.push(`  state ${s}: ` + Object.entries(sh).map(([l, v]) => `${l} ${pct(v)}`).join(', ')));
  };
  if (regime) table('regimes.json', regime);
  if (clock) table(`before/after ${result.clockSplit!.at} UTC`, clock);
  if (out) lines.push(`wrote ${out}`);
  process.stdout.write(lines.join('\n') + '\n');
}
