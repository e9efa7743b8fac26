import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { simulate } from '../simulate/index.js';
import { checkOutput, loadDataset } from '../sources/index.js';
import { inspectDataset } from '../windows/index.js';
import { createBackbone, encodeDataset } from '../encode/index.js';
import { encodeWindows, readEncodedWindows, trainStateModel, windowInputDims } from '../model/index.js';
import { formatProbeReport, modelEmbedder, probeDataset, probeSourceOf, rawBackboneEmbedder, timeEmbedder } from '../eval/index.js';
import { Progress, nonNegativeIntArg, run } from './common.js';

const SPEC = { lengthMs: 5 * 60_000, strideMs: 60_000 };

/**
 * The main job end to end, as far as the project reaches today: simulate two runs of a system
 * with faults, read one back and encode its views, pre-train the state model on it without
 * task labels (weak anomaly labels only), and probe the embedding on the run it never saw;
 * then read the real Nezha data when ../shared/datasets is there.
 */
export function register(program: Command): void {
  program
    .command('demo')
    .description('end-to-end demo: simulate, read back, encode views, pre-train the state model, probe it on a held-out run (and read the real Nezha data if present)')
    .option('--out <dir>', 'where the simulated runs and the views file are written', 'out/demo')
    .option('--seed <n>', 'random seed', nonNegativeIntArg, 1)
    .option('--datasets <dir>', 'folder with the shared real datasets', '../shared/datasets')
    .action((o: { out: string; seed: number; datasets: string }) =>
      run(async () => {
        const say = (s: string) => process.stdout.write(s + '\n');
        const secs = (t: number) => `${((performance.now() - t) / 1000).toFixed(1)} s`;
        const trainDir = resolve(o.out, 'sim-train');
        const testDir = resolve(o.out, 'sim-heldout');
        checkOutput(o.out, [], { folder: true }); // writable before minutes of simulation

        say(`1. simulating two runs of an Online-Boutique-style system (6 h, 20 faults; 4 h, 12 faults) → ${o.out}`);
        let t = performance.now();
        const bar = new Progress('simulating', 600);
        await simulate({ outDir: trainDir, hours: 6, seed: o.seed, faults: 20, onProgress: (d) => bar.update(Math.round(d / 60_000)) });
        await simulate({ outDir: testDir, hours: 4, seed: o.seed + 1000, faults: 12, onProgress: (d) => bar.update(360 + Math.round(d / 60_000)) });
        bar.stop();
        say(`   done in ${secs(t)}`);

        say('2. reading the first run back (OTLP JSON + faults.json) and windowing it (5m windows, 1m stride)');
        const train = await loadDataset(trainDir);
        const r = await inspectDataset(train, SPEC);
        say(`   ${r.entities} entities, ${r.metrics.samples} metric samples, ${r.traces.spans} spans, ${r.logs.records} logs`);
        say(`   ${r.faults.total} faults (${Object.entries(r.faults.byType).map(([k, n]) => `${k} ${n}`).join(', ')}); ${r.windows} windows, ${r.abnormalWindows} abnormal`);

        const arrow = resolve(o.out, 'sim-train-views.arrow');
        say(`3. views (text + numeric features per modality, system and per service), hash backbone → ${arrow}`);
        t = performance.now();
        let example: { faultType?: string; rootCause?: string; text?: string } | undefined;
        const b3 = new Progress('encoding', r.windows);
        const enc = await encodeDataset(train, {
          spec: SPEC,
          backboneSpec: 'hash',
          out: arrow,
          includeText: true,
          onProgress: (p) => p.phase === 'encode' && b3.update(p.windows),
          onRows: (rows) => {
            example ??= rows.find((x) => x.abnormal && x.entity === '__system__' && x.modality === 'logs');
          },
        });
        b3.stop();
        say(`   ${enc.rows} rows (${enc.windows} windows × system and services × modalities), ${enc.dim}-d, in ${secs(t)}`);
        if (example) {
          say(`   e.g. the log view of an abnormal window (${example.faultType} at ${example.rootCause}):`);
          for (const line of (example.text ?? '').split('\n').slice(0, 5)) say('     ' + line.slice(0, 150));
        }

        say('4. pre-training the state model on the first run (modal InfoNCE + temporal + weak anomaly terms)');
        t = performance.now();
        const backbone = await createBackbone('hash');
        // the views file of step 3 is the training input: nothing is encoded twice
        const trainWindows = (await readEncodedWindows(arrow)).windows;
        const held = await loadDataset(testDir);
        const heldWindows = await encodeWindows(held, { spec: SPEC, backbone });
        const b4 = new Progress('training', 20);
        const model = await trainStateModel(trainWindows, {
          inputDims: windowInputDims(backbone.dim),
          epochs: 20,
          seed: o.seed,
          weakLabels: true,
          onProgress: (p) => b4.update(p.epoch + 1),
        });
        b4.stop();
        say(`   ${model.epochs} epochs (${model.stopReason}, best ${model.bestEpoch + 1}) over ${model.trainWindows} windows in ${secs(t)}`);

        say('5. probing the embedding on the held-out run (never seen in training): kNN purity and silhouette');
        const report = probeDataset(await probeSourceOf(held, heldWindows, 'held-out run'), [
          { name: 'raw backbone', embed: rawBackboneEmbedder(backbone.dim) },
          { name: 'time only', embed: timeEmbedder },
          { name: 'state model', embed: modelEmbedder(model.model) },
        ]);
        for (const line of formatProbeReport(report).trimEnd().split('\n')) say('   ' + line);

        const nezha = resolve(o.datasets, 'nezha-trainticket');
        if (existsSync(nezha)) {
          say(`6. the real TrainTicket data (${nezha})`);
          const b6 = new Progress('reading', 100);
          t = performance.now();
          const n = await inspectDataset(await loadDataset(nezha), SPEC, (f) => b6.update(Math.round(100 * f)));
          b6.stop();
          say(`   read in ${secs(t)}: ${n.metrics.samples} metric samples (${(100 * n.metrics.nanShare).toFixed(2)}% NaN), ${n.traces.spans} spans, ${n.logs.records} logs`);
          say(`   ${n.faults.total} faults (${Object.entries(n.faults.byType).map(([k, c]) => `${k} ${c}`).join(', ')}); ${n.windows} windows; ${n.problemsTotal} data problem(s) reported`);
        } else {
          say(`6. (skipped: ${nezha} not found)`);
        }
        say('Next: `runtimeslicer train --data ... --out model.rsm`, `embed` and `probe` on your own OTLP export (see README).');
      }),
    );
}
