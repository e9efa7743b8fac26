import { Option } from 'commander';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { simulate } from '../simulate/index.js';
import { Progress, durationArg, nonNegativeIntArg, positiveNumberArg, run } from './common.js';

/** `3` or `3-10`: fault durations in whole minutes. */
function minutesRangeArg(value: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(value.trim());
  const a = m ? Number(m[1]) : NaN;
  const b = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(a >= 1 && b >= a)) throw new InvalidArgumentError('expected minutes as N or MIN-MAX (e.g. 3 or 3-10), MIN ≥ 1');
  return [a, b];
}

export function register(program: Command): void {
  program
    .command('simulate')
    .description('simulate an Online-Boutique-style system under shifting workload regimes with injected faults; writes OTLP JSON + faults.json, or the Nezha export layout')
    .requiredOption('--out <dir>', 'output folder: new, empty, or a previous simulator output (whose files are replaced); a folder with other files is refused')
    .option('--hours <n>', 'simulated hours', positiveNumberArg, 6)
    .option('--seed <n>', 'random seed (same seed, same output)', nonNegativeIntArg, 1)
    .option('--faults <n>', 'number of injected faults', nonNegativeIntArg, 20)
    .option('--topology <name|file>', 'boutique (default), chain, mesh, or a topology JSON file (docs/simulator.md)', 'boutique')
    .option('--base-rps <n>', 'user requests per second at load 1, in place of the topology\'s (boutique 40): how many calls each minute\'s latency and workload figures rest on', positiveNumberArg)
    .option('--mesh-metrics', 'also emit per-edge latency metrics as a service mesh exports them (docs/simulator.md)')
    .option('--no-traces', 'emit no spans (a system without tracing)')
    .option('--gaps <duration>', 'Nezha-like gaps: write spans and logs only within this margin of a fault (e.g. 5m); metrics stay whole', durationArg)
    .addOption(new Option('--layout <layout>', 'otlp: OTLP JSON + faults.json; nezha: the Nezha export layout (rca_data/, construct_data/; traces and logs only for the 3 minutes from each injection)').choices(['otlp', 'nezha']).default('otlp'))
    .option('--effect-scale <x>', 'multiply every fault\'s effect (delay ms, loss rate, share of failing requests, CPU taken, memory leaked) by x; same faults, times and pods', positiveNumberArg, 1)
    .option('--fault-minutes <n|min-max>', 'fault durations in minutes (default 3-10; the Nezha layout\'s fault list states none and readers assume 3)', minutesRangeArg)
    .addOption(new Option('--log-style <style>', 'log lines: text (TrainTicket\'s `HH:MM:SS.mmm LEVEL service message` in the Nezha layout) or json (one JSON object per line, as Go, Node and Python services write them; in OTLP the whole line is the body, unparsed, without severity)').choices(['text', 'json']).default('text'))
    .option('--json', 'print the summary as one JSON object')
    .action(
      (o: { out: string; hours: number; seed: number; faults: number; topology: string; baseRps?: number; meshMetrics?: boolean; traces: boolean; gaps?: number; layout: 'otlp' | 'nezha'; effectScale: number; faultMinutes?: [number, number]; logStyle: 'text' | 'json'; json?: boolean }) =>
        run(async () => {
          const total = o.hours * 3_600_000;
          const bar = new Progress('simulating', Math.round(total / 60_000), !o.json && process.stderr.isTTY === true);
          const summary = await simulate({
            outDir: o.out,
            hours: o.hours,
            seed: o.seed,
            faults: o.faults,
            topology: o.topology,
            ...(o.baseRps !== undefined ? { baseRps: o.baseRps } : {}),
            meshMetrics: o.meshMetrics === true,
            traces: o.traces,
            layout: o.layout,
            ...(o.logStyle !== 'text' ? { logStyle: o.logStyle } : {}),
            ...(o.effectScale !== 1 ? { effectScale: o.effectScale } : {}),
            ...(o.faultMinutes ? { faultMinutes: o.faultMinutes } : {}),
            ...(o.gaps !== undefined ? { gapsMarginMs: o.gaps } : {}),
            onProgress: (done) => bar.update(Math.round(done / 60_000)),
          });
          bar.stop();
          if (summary.nezha && summary.nezha.faultsNot3Min > 0 && !o.json) {
            process.stderr.write(`runtimeslicer: note: ${summary.nezha.faultsNot3Min} of ${summary.faults} faults last longer than the 3 minutes a Nezha reader assumes (the fault list states no duration; true labels in simulated-faults.json); --fault-minutes 3 makes them agree\n`);
          }
          process.stdout.write(o.json ? JSON.stringify(summary) + '\n' : `wrote ${o.out}\n${JSON.stringify(summary, null, 2)}\n`);
        }),
    );
}
