import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { simulate } from '../simulate/index.js';
import { loadDataset } from '../sources/index.js';
import { inspectDataset } from '../windows/index.js';
import { encodeDataset } from '../encode/index.js';
import { Progress, positiveIntArg, run } from './common.js';

/**
 * The main job end to end, as far as the project reaches today: simulate a system with faults,
 * read it back through the OTLP reader, window it and summarise; then the same on the real
 * Nezha data when ../shared/datasets is there.
 */
export function register(program: Command): void {
  program
    .command('demo')
    .description('end-to-end demo: simulate 6 h with 20 faults, read back, window 5m/1m, encode views, summarise (and the real Nezha data if present)')
    .option('--out <dir>', 'where the simulated run is written', 'out/demo')
    .option('--seed <n>', 'random seed', positiveIntArg, 1)
    .option('--datasets <dir>', 'folder with the shared real datasets', '../shared/datasets')
    .action((o: { out: string; seed: number; datasets: string }) =>
      run(async () => {
        const say = (s: string) => process.stdout.write(s + '\n');
        let example: { faultType?: string; rootCause?: string; text?: string } | undefined;
        const sim = resolve(o.out, 'sim');
        say(`1. simulating 6 h of an Online-Boutique-style system with 20 faults → ${sim}`);
        const bar = new Progress('simulating', 360);
        const t0 = performance.now();
        await simulate({ outDir: sim, hours: 6, seed: o.seed, faults: 20, onProgress: (d) => bar.update(Math.round(d / 60_000)) });
        bar.stop();
        say(`   done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        say('2. reading it back (OTLP JSON + faults.json) and windowing it (5m windows, 1m stride)');
        const spec = { lengthMs: 5 * 60_000, strideMs: 60_000 };
        const r = await inspectDataset(await loadDataset(sim), spec);
        say(`   ${r.entities} entities, ${r.metrics.samples} metric samples, ${r.traces.spans} spans, ${r.logs.records} logs`);
        say(`   ${r.faults.total} faults (${Object.entries(r.faults.byType).map(([t, n]) => `${t} ${n}`).join(', ')}); ${r.windows} windows, ${r.abnormalWindows} abnormal`);
        const arrow = resolve(o.out, 'sim-views.arrow');
        say(`3. views (text + numeric features per modality, system and per service) embedded with the hash backbone → ${arrow}`);
        const b3 = new Progress('encoding', r.windows);
        let shown = false;
        const enc = await encodeDataset(await loadDataset(sim), {
          spec,
          backboneSpec: 'hash',
          out: arrow,
          // baselines from the first two hours only: the later windows are judged against them
          fitFilter: (w) => w.end <= Date.parse(r.timeRange.start) + 2 * 3_600_000,
          onProgress: (p) => p.phase === 'encode' && b3.update(p.windows),
          onRows: (rows) => {
            const row = rows.find((x) => x.abnormal && x.entity === '__system__' && x.modality === 'traces');
            if (shown || !row) return;
            shown = true;
            example = row;
          },
          includeText: true,
        });
        b3.stop();
        say(`   ${enc.rows} rows (${enc.windows} windows × system and services × modalities), ${enc.dim}-d, in ${(enc.timings.totalMs / 1000).toFixed(1)} s`);
        if (example) {
          say(`   e.g. the trace view of an abnormal window (${example.faultType} at ${example.rootCause}):`);
          for (const line of (example.text ?? '').split('\n').slice(0, 6)) say('     ' + line);
        }
        const nezha = resolve(o.datasets, 'nezha-trainticket');
        if (existsSync(nezha)) {
          say(`4. the real TrainTicket data (${nezha})`);
          const b2 = new Progress('reading', 100);
          const t1 = performance.now();
          const n = await inspectDataset(await loadDataset(nezha), spec, (f) => b2.update(Math.round(100 * f)));
          b2.stop();
          say(`   read in ${((performance.now() - t1) / 1000).toFixed(1)} s: ${n.metrics.samples} metric samples (${(100 * n.metrics.nanShare).toFixed(2)}% NaN), ${n.traces.spans} spans, ${n.logs.records} logs`);
          say(`   ${n.faults.total} faults (${Object.entries(n.faults.byType).map(([t, c]) => `${t} ${c}`).join(', ')}); ${n.windows} windows; ${n.problemsTotal} data problem(s) reported`);
        } else {
          say(`4. (skipped: ${nezha} not found)`);
        }
        say('Next: `runtimeslicer inspect PATH` and `runtimeslicer encode PATH --out FILE` on your own OTLP export; contrastive training and the tasks come in later releases.');
      }),
    );
}
