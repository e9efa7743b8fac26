import { Command, CommanderError } from 'commander';
import { register as inspect } from './inspect.js';
import { register as simulate } from './simulate.js';
import { register as templates } from './templates.js';
import { register as demo } from './demo.js';
import { register as encode } from './encode.js';
import { register as train } from './train.js';
import { register as embed } from './embed.js';
import { register as probe } from './probe.js';
import { register as localize } from './localize.js';
import { registerPlot } from './plot.js';
import { register as states } from './states.js';
import { register as tune } from './tune.js';
import { register as detect } from './detect.js';
import { registerReport } from './report.js';
import { registerEvaluate as evaluate } from './evaluate.js';
import { reportError } from './common.js';

// Errors that escape a command body (a stray promise, a throw in a callback) get the same one
// line as those inside it: never a bare stack trace unless RUNTIMESLICER_DEBUG asks for one.
const fatal = (e: unknown) => {
  process.exitCode = reportError(e);
  process.exit();
};
process.on('unhandledRejection', fatal);
process.on('uncaughtException', fatal);

const program = new Command();
program
  .name('runtimeslicer')
  .description('System-state embeddings and state-aware failure management for microservices (metrics + traces + logs).')
  .version('0.1.0')
  .showHelpAfterError('(add --help for usage)')
  .exitOverride();

for (const reg of [demo, simulate, inspect, templates, encode, train, embed, probe, localize, states, tune, detect, evaluate, registerPlot, registerReport]) reg(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // help and version are exits with code 0; usage errors have been printed by commander.
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else {
    process.exitCode = reportError(e);
  }
}
