import type { Command } from 'commander';
import { simulate } from '../simulate/index.js';
import { Progress, durationArg, nonNegativeIntArg, positiveNumberArg, run } from './common.js';

export function register(program: Command): void {
  program
    .command('simulate')
    .description('simulate an Online-Boutique-style system under shifting workload regimes with injected faults; writes OTLP JSON + faults.json')
    .requiredOption('--out <dir>', 'output folder: new, empty, or a previous simulator output (whose files are replaced); a folder with other files is refused')
    .option('--hours <n>', 'simulated hours', positiveNumberArg, 6)
    .option('--seed <n>', 'random seed (same seed, same output)', nonNegativeIntArg, 1)
    .option('--faults <n>', 'number of injected faults', nonNegativeIntArg, 20)
    .option('--topology <name|file>', 'boutique (default), chain, mesh, or a topology JSON file (docs/simulator.md)', 'boutique')
    .option('--mesh-metrics', 'also emit per-edge latency metrics as a service mesh exports them (docs/simulator.md)')
    .option('--no-traces', 'emit no spans (a system without tracing)')
    .option('--gaps <duration>', 'Nezha-like gaps: write spans and logs only within this margin of a fault (e.g. 5m); metrics stay whole', durationArg)
    .option('--json', 'print the summary as one JSON object')
    .action((o: { out: string; hours: number; seed: number; faults: number; topology: string; meshMetrics?: boolean; traces: boolean; gaps?: number; json?: boolean }) =>
      run(async () => {
        const total = o.hours * 3_600_000;
        const bar = new Progress('simulating', Math.round(total / 60_000), !o.json && process.stderr.isTTY === true);
        const summary = await simulate({ outDir: o.out, hours: o.hours, seed: o.seed, faults: o.faults, topology: o.topology, meshMetrics: o.meshMetrics === true, traces: o.traces, ...(o.gaps !== undefined ? { gapsMarginMs: o.gaps } : {}), onProgress: (done) => bar.update(Math.round(done / 60_000)) });
        bar.stop();
        process.stdout.write(o.json ? JSON.stringify(summary) + '\n' : `wrote ${o.out}\n${JSON.stringify(summary, null, 2)}\n`);
      }),
    );
}
