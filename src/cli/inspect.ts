import type { Command } from 'commander';
import { loadDataset } from '../sources/index.js';
import { inspectDataset, type InspectReport } from '../windows/index.js';
import { formatDuration } from '../telemetry/index.js';
import { Progress, run, windowOption, strideOption, faultDurationOption } from './common.js';

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
        const ds = await loadDataset(path, { faultDurationMs: o.faultDuration });
        const bar = new Progress('reading', 100, !o.json && process.stderr.isTTY === true);
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
  for (const [reason, n] of Object.entries(r.problemsByReason)) lines.push(`  ${n} × ${reason}`);
  for (const p of r.problems.slice(0, 20)) lines.push(`  ${p.file}${p.line ? ':' + p.line : ''}: ${p.reason}`);
  if (r.problems.length > 20) lines.push(`  … ${r.problemsTotal - 20} more (see --json)`);
  for (const n of r.notes) lines.push(`note        ${n}`);
  return lines.join('\n') + '\n';
}
