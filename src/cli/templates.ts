import type { Command } from 'commander';
import { evaluateLoghub } from '../encode/templates/index.js';
import { run } from './common.js';
import { UserError } from '../telemetry/index.js';

export function register(program: Command): void {
  program
    .command('templates')
    .description('log template mining (Drain-style); --eval measures grouping accuracy on a Loghub-2k folder')
    .requiredOption('--eval <dir>', 'Loghub-2k folder (<System>/<System>_2k.log + _structured.csv, formats.json)')
    .option('--json', 'print one JSON object {"average","systems","linesPerSecond"}')
    .action((o: { eval: string; json?: boolean }) =>
      run(async () => {
        const r = await evaluateLoghub(o.eval).catch((e: NodeJS.ErrnoException) => {
          if (e.code === 'ENOENT') throw new UserError(`not a Loghub-2k folder: ${o.eval} (${e.message})`);
          throw e;
        });
        if (o.json) {
          process.stdout.write(JSON.stringify({ average: r.average, systems: r.systems, linesPerSecond: r.linesPerSecond }) + '\n');
          return;
        }
        for (const [s, ga] of Object.entries(r.systems)) process.stdout.write(`${s.padEnd(12)} ${ga.toFixed(4)}\n`);
        process.stdout.write(`${'average'.padEnd(12)} ${r.average.toFixed(4)}\nlines/s      ${Math.round(r.linesPerSecond)}\n`);
      }),
    );
}
