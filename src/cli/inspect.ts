import type { Command } from 'commander';
import { inspectDataset, type InspectReport } from '../windows/index.js';
import { formatDuration } from '../telemetry/index.js';
import { Progress, run, showProgress, warnStrideGap, windowOption, strideOption, faultDurationOption, openDataset } from './common.js';

export function register(program: Command): void {
  program
    .command('inspect')
    .description('summarise a telemetry folder: format, entities, time range, counts, faults, windows, data problems')
    .argument('<path>', 'telemetry folder (Nezha, AIOps 2022 events, OTLP JSON) or OTLP file')
    .addOption(windowOption())
    .addOption(strideOption())
    .addOption(faultDurationOption())
    .option('--json', 'print one JSON object instead of text')
    .action((path: string, o: { window: number; stride: number; faultDuration: number; json?: boolean }) =>
      run(async () => {
        warnStrideGap({ lengthMs: o.window, strideMs: o.stride });
        const ds = await openDataset(path, { faultDurationMs: o.faultDuration });
        const bar = new Progress('reading', 100, showProgress(o.json));
        const r = await inspectDataset(ds, { lengthMs: o.window, strideMs: o.stride }, (f) => bar.update(Math.round(f * 100)));
        bar.stop();
        process.stdout.write(o.json ? JSON.stringify(r) + '\n' : formatReport(r));
      }),
    );
}

function formatReport(r: InspectReport): string {
  const pct = (x: number) => (100 * x).toFixed(2) + '%';
  const lines = [
    `format      ${r.format}  (${r.root})`,
    `entities    ${r.entities}  (${Object.entries(r.entityKinds).map(([k, n]) => `${n} ${k}`).join(', ')}); services ${r.services}`,
    `time range  ${r.timeRange.start} → ${r.timeRange.end}`,
    `metrics     ${r.metrics.series} series, ${r.metrics.samples} samples, ${pct(r.metrics.nanShare)} missing (NaN)`,
    `traces      ${r.traces.spans} spans in ${r.traces.traces} traces`,
    `logs        ${r.logs.records} records`,
    `faults      ${r.faults.total}${r.faults.total ? '  (' + Object.entries(r.faults.byType).sort().map(([t, n]) => `${t} ${n}`).join(', ') + ')' : ''}`,
  ];
  if (r.cases) lines.push(`cases       ${r.cases.total}  (${Object.entries(r.cases.bySplit).map(([k, n]) => `${k} ${n}`).join(', ')})`);
  lines.push(`windows     ${r.windows} of ${formatDuration(r.window.lengthMs)} every ${formatDuration(r.window.strideMs)}; ${r.abnormalWindows} overlap a fault`);
  lines.push(`problems    ${r.problemsTotal}${r.problemsTotal ? '' : ' (none)'}`);
  lines.push(...formatProblems(r));
  for (const n of r.notes) lines.push(`note        ${n}`);
  return lines.join('\n') + '\n';
}

/** Examples shown per kind in text; --json has more (and `problems` has the first thousand). */
const TEXT_EXAMPLES = 3;

/** One line per kind of problem, then its first few examples as file:line: reason. */
function formatProblems(r: InspectReport): string[] {
  const lines: string[] = [];
  const width = Math.max(0, ...r.problemsByKind.map((g) => g.kind.length));
  for (const g of r.problemsByKind) {
    lines.push(`  ${g.kind.padEnd(width)}  ${g.count}`);
    for (const p of g.examples.slice(0, TEXT_EXAMPLES)) lines.push(`    ${p.file}${p.line ? ':' + p.line : ''}: ${p.reason}`);
    if (g.count > TEXT_EXAMPLES) lines.push(`    … ${g.count - Math.min(TEXT_EXAMPLES, g.examples.length)} more of this kind`);
  }
  return lines;
}
