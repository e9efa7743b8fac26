/**
 * The loss ablation of issue 7, item 7: trains the full StateModel and one model per loss term
 * switched off, on nezha-trainticket plus two simulator runs, then probes Nezha and a held-out
 * simulator run (not used in training) with each (src/eval/probe.ts, docs/probe.md).
 *
 *   npm run bench -- probe-ablation [--epochs 20] [--seeds 1,2,3] [--hours 6] [--faults 12]
 *     [--weak-labels sim|off] [--patience N] [--backbone hash] [--json]
 *
 * - Backbone `hash` (no download), 5-min windows at a 1-min stride, views fitted on each
 *   folder's own windows (label-free).
 * - Simulator runs: seeds 11 and 12 for training, 13 held out, `--hours` each with `--faults`
 *   faults; every seed draws its own regime timeline and faults. Written to a temporary folder,
 *   removed at the end.
 * - Weak labels (the anomaly term): `sim` (default) takes them from the two training simulator
 *   runs only; Nezha's windows are unknown to the anomaly term (the trainer's `weakLabels`
 *   predicate). `off`: no weak labels at all; the anomaly term is then inactive and the
 *   "−anomaly" model equals the full one. Nezha's labels never reach training either way.
 * - Early stopping: the trainer's (validation split of whole time blocks, patience 5) unless
 *   `--patience` says otherwise (0 = train every epoch).
 * - Every model is trained with each seed of `--seeds`; the table shows the median over seeds
 *   (and, with several seeds, min–max in the JSON). Baselines (raw backbone, time only) do not
 *   depend on the seed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBackbone } from '../src/encode/index.js';
import { loadDataset } from '../src/sources/index.js';
import { simulate } from '../src/simulate/index.js';
import { encodeWindows, trainStateModel, windowInputDims, type EncodedWindow, type LossTerms } from '../src/model/index.js';
import { modelEmbedder, probeDataset, probeSourceOf, rawBackboneEmbedder, timeEmbedder, type NamedEmbedder, type ProbeReport } from '../src/eval/index.js';
import type { Dataset } from '../src/telemetry/index.js';
import { arg, median } from './util.js';



const VARIANTS: { name: string; terms: Partial<LossTerms> }[] = [
  { name: 'full', terms: {} },
  { name: '−modal', terms: { modal: false } },
  { name: '−temporal', terms: { temporal: false } },
  { name: '−anomaly', terms: { anomaly: false } },
];

/** Short column names for the table (the JSON keeps the measure ids and labels). */
const COLUMNS: Record<string, string> = {
  'a.type.acc': 'a:type',
  'a.service.acc': 'a:svc',
  'a.type.far.acc': 'a:type≥gap',
  'a.service.far.acc': 'a:svc≥gap',
  'b.fault.acc': 'b:acc',
  'b.fault.bacc': 'b:bacc',
  'b.fault.purity.fault': 'b:fpur',
  'b.fault.silhouette': 'b:sil',
  'b.sched.bacc': 'b·h:bacc',
  'b.sched.purity.fault': 'b·h:fpur',
  'b.sched.silhouette': 'b·h:sil',
  'c.fault.purity': 'c:pur',
  'c.fault.purity.fault': 'c:fpur',
  'c.fault.silhouette': 'c:sil',
  'c.regime.purity': 'c:rpur',
  'c.regime.other.purity': 'c:rpur-x',
  'c.regime.silhouette': 'c:rsil',
};

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(3) : '—';
}

/** One table per dataset: rows = embedders (and chance), columns = measures. */
function table(title: string, reports: ProbeReport[], rows: string[]): string {
  const first = reports[0];
  const ids = first.measures.map((m) => m.id);
  const head = ['', ...ids.map((id) => COLUMNS[id] ?? id)];
  const value = (row: string, id: string) => median(reports.map((r) => r.measures.find((m) => m.id === id)?.values[row] ?? NaN));
  const body = [
    ['chance', ...ids.map((id) => fmt(first.measures.find((m) => m.id === id)?.chance ?? NaN))],
    ...rows.map((row) => [row, ...ids.map((id) => fmt(value(row, id)))]),
  ];
  const w = head.map((h, c) => Math.max(h.length, ...body.map((b) => b[c].length)));
  const line = (cells: string[]) => cells.map((x, c) => (c === 0 ? x.padEnd(w[c]) : x.padStart(w[c]))).join('  ');
  const n = first.measures.map((m) => `${COLUMNS[m.id] ?? m.id} = ${m.label} (n=${m.n})`).join('\n  ');
  return [title, line(head), ...body.map(line), `  ${n}`, ...first.notes.map((x) => `  note: ${x}`)].join('\n') + '\n';
}

export default async function main(args: string[]): Promise<void> {
  const epochs = Number(arg(args, 'epochs', '20'));
  const seeds = arg(args, 'seeds', '1,2,3').split(',').map(Number);
  const hours = Number(arg(args, 'hours', '6'));
  const faults = Number(arg(args, 'faults', '12'));
  const weak = arg(args, 'weak-labels', 'sim');
  const backboneSpec = arg(args, 'backbone', 'hash');
  const patience = args.includes('--patience') ? Number(arg(args, 'patience', '5')) : undefined;
  const json = args.includes('--json');
  if (weak !== 'sim' && weak !== 'off') throw new Error('--weak-labels: expected sim or off');
  const root = process.env.RS_DATASETS ?? resolve(fileURLToPath(new URL('../../shared/datasets', import.meta.url)));
  const nezhaPath = join(root, 'nezha-trainticket');
  if (!existsSync(nezhaPath)) {
    console.log(`probe-ablation: ${nezhaPath} absent; skipped`);
    return;
  }
  const log = (s: string) => process.stderr.write(s + '\n');
  const t0 = performance.now();
  const tmp = await mkdtemp(join(tmpdir(), 'rs-probe-ablation-'));
  const backbone = await createBackbone(backboneSpec);
  try {
    const spec = { lengthMs: 5 * 60_000, strideMs: 60_000 };
    const simPaths: Record<number, string> = {};
    for (const seed of [11, 12, 13]) {
      simPaths[seed] = join(tmp, `sim-${seed}`);
      await simulate({ outDir: simPaths[seed], hours, seed, faults });
    }
    const tSim = performance.now();
    const encoded = new Map<string, { ds: Dataset; windows: EncodedWindow[] }>();
    for (const path of [nezhaPath, simPaths[11], simPaths[12], simPaths[13]]) {
      const ds = await loadDataset(path);
      encoded.set(path, { ds, windows: await encodeWindows(ds, { spec, backbone }) });
      log(`encoded ${path}: ${encoded.get(path)?.windows.length} windows`);
    }
    const tEnc = performance.now();

    const nezha = encoded.get(nezhaPath) as { ds: Dataset; windows: EncodedWindow[] };
    const simTrain = [...(encoded.get(simPaths[11])?.windows ?? []), ...(encoded.get(simPaths[12])?.windows ?? [])];
    const train = [...nezha.windows, ...simTrain];
    // Nezha's labels stay out of training: only the simulator runs' windows offer weak labels.
    const simSet = new Set(simTrain);
    const weakLabels = weak === 'sim' ? (w: EncodedWindow) => simSet.has(w) : false;
    const inputDims = windowInputDims(backbone.dim);

    const baselines: NamedEmbedder[] = [
      { name: 'raw backbone', embed: rawBackboneEmbedder(backbone.dim) },
      { name: 'time only', embed: timeEmbedder },
    ];
    const targets = [
      { title: `nezha-trainticket ((a), (b); k=5)`, path: nezhaPath },
      { title: `held-out simulator run, seed 13 ((c); k=5)`, path: simPaths[13] },
    ];
    const reports: Record<string, ProbeReport[]> = { [nezhaPath]: [], [simPaths[13]]: [] };
    const training: Record<string, unknown>[] = [];
    let trainMs = 0;
    let probeMs = 0;
    for (const seed of seeds) {
      const embedders: NamedEmbedder[] = [...baselines];
      for (const v of VARIANTS) {
        const t = performance.now();
        const r = await trainStateModel(train, { inputDims, epochs, seed, terms: v.terms, weakLabels, patience });
        trainMs += performance.now() - t;
        training.push({ seed, variant: v.name, terms: r.terms, epochs: r.epochs, bestEpoch: r.bestEpoch, stopReason: r.stopReason, steps: r.steps, bestValLoss: r.bestValLoss, ms: Math.round(r.timings.totalMs) });
        log(`seed ${seed} ${v.name}: ${r.epochs} epochs (best ${r.bestEpoch}, ${r.stopReason}), ${r.steps} steps, ${(r.timings.totalMs / 1000).toFixed(1)} s, terms ${JSON.stringify(r.terms)}`);
        embedders.push({ name: v.name, embed: modelEmbedder(r.model) });
      }
      const t = performance.now();
      for (const target of targets) {
        const e = encoded.get(target.path) as { ds: Dataset; windows: EncodedWindow[] };
        const src = await probeSourceOf(e.ds, e.windows, target.path);
        reports[target.path].push(probeDataset(src, embedders));
      }
      probeMs += performance.now() - t;
    }
    const rows = [...baselines.map((b) => b.name), ...VARIANTS.map((v) => v.name)];
    const timings = { simulateMs: Math.round(tSim - t0), encodeMs: Math.round(tEnc - tSim), trainMs: Math.round(trainMs), probeMs: Math.round(probeMs), totalMs: Math.round(performance.now() - t0) };
    const setup = { backbone: backbone.id, window: spec, epochs, patience: patience ?? 'trainer default', seeds, hours, faults, weakLabels: weak, trainWindows: train.length, trainSources: ['nezha-trainticket', 'sim seed 11', 'sim seed 12'], heldOut: 'sim seed 13' };
    if (json) {
      const summary = targets.map((t) => {
        const rs = reports[t.path];
        return {
          dataset: t.title,
          measures: rs[0].measures.map((m) => ({
            id: m.id,
            label: m.label,
            n: m.n,
            chance: m.chance,
            median: Object.fromEntries(rows.map((row) => [row, median(rs.map((r) => r.measures.find((x) => x.id === m.id)?.values[row] ?? NaN))])),
            min: Object.fromEntries(rows.map((row) => [row, Math.min(...rs.map((r) => r.measures.find((x) => x.id === m.id)?.values[row] ?? NaN))])),
            max: Object.fromEntries(rows.map((row) => [row, Math.max(...rs.map((r) => r.measures.find((x) => x.id === m.id)?.values[row] ?? NaN))])),
          })),
          samples: rs[0].samples,
          notes: rs[0].notes,
        };
      });
      console.log(JSON.stringify({ setup, timings, training, results: summary }));
      return;
    }
    console.log(`probe-ablation: ${JSON.stringify(setup)}`);
    console.log(`timings (s): simulate ${(timings.simulateMs / 1000).toFixed(1)}, encode ${(timings.encodeMs / 1000).toFixed(1)}, train ${(timings.trainMs / 1000).toFixed(1)}, probe ${(timings.probeMs / 1000).toFixed(1)}, total ${(timings.totalMs / 1000).toFixed(1)}`);
    console.log(`values: median over seeds ${seeds.join(', ')}\n`);
    for (const t of targets) console.log(table(t.title, reports[t.path], rows));
  } finally {
    await backbone.dispose?.();
    await rm(tmp, { recursive: true, force: true });
  }
}
