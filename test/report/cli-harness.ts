/**
 * `plot` and `report` on their own commander program, the way src/cli/main.ts runs commands,
 * so their CLI tests do not depend on when main.ts registers them.
 */
import { Command, CommanderError } from 'commander';
import { registerPlot } from '../../src/cli/plot.js';
import { registerReport } from '../../src/cli/report.js';
import { reportError } from '../../src/cli/common.js';

const program = new Command().name('runtimeslicer').exitOverride();
registerPlot(program);
registerReport(program);
try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.exitCode = e instanceof CommanderError ? (e.exitCode === 0 ? 0 : 2) : reportError(e);
}
