import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError, type Modality } from '../telemetry/index.js';
import { checkOutput } from '../sources/index.js';
import { buildReportHtml, readEvalReport, writeReport, type ReportFigure } from '../eval/report/index.js';
import { DEFAULT_MAX_POINTS, renderSvg, type ProjectionMethod } from '../plot/index.js';
import { addModelDataOptions, nonNegativeIntArg, run, showProgress, type CacheCliOptions } from './common.js';
import { computeEmbeddingPlot, formatEmbeddingSummary, maskArg, methodArg } from './plot.js';

interface ReportCliOptions extends CacheCliOptions {
  eval?: string;
  model?: string;
  data?: string;
  out?: string;
  method: ProjectionMethod;
  mask?: Modality[];
  seed: number;
  window?: number;
  stride?: number;
  faultDuration: number;
}

/** `runtimeslicer report`: one self-contained HTML page from an EVAL.json (docs/report.md). */
export function registerReport(program: Command): void {
  const report = program
    .command('report')
    .description('one self-contained HTML page (no network) from `evaluate --json`: the Table 1 with the paper\'s figures where they apply, per-fault-type bars, a timeline, per-case rankings and, with --model and --data, the embedding plot (docs/report.md)')
    .option('--eval <file>', 'EVAL.json written by `runtimeslicer evaluate --json`')
    .option('--out <dir>', 'folder to write index.html into (created if missing)')
    .option('--model <file>', 'trained model: adds the raw-backbone vs learned embedding plot (needs --data)')
    .option('--data <path>', 'telemetry folder for the embedding plot (needs --model)')
    .option('--method <name>', 'embedding projection: umap or tsne', methodArg, 'umap')
    .option('--mask <modalities>', 'embedding plot: modalities to treat as absent, comma-separated', maskArg)
    .option('--seed <n>', 'embedding plot seed', nonNegativeIntArg, 0);
  addModelDataOptions(report, { prefix: 'embedding plot ' })
    .action((o: ReportCliOptions) =>
      run(async () => {
        if (!o.eval) throw new UserError('--eval <file> is required', 2);
        if (!o.out) throw new UserError('--out <dir> is required', 2);
        if ((o.model === undefined) !== (o.data === undefined)) throw new UserError('--model and --data go together (the embedding plot needs both)', 2);
        const inputs = [o.eval, o.model, o.data];
        const outDir = checkOutput(o.out, inputs, { folder: true });
        // the page itself must not be one of the inputs (an EVAL.json named index.html in DIR)
        if (existsSync(outDir)) checkOutput(resolve(outDir, 'index.html'), inputs);
        const report = await readEvalReport(o.eval);
        let embedding: ReportFigure | undefined;
        if (o.model !== undefined && o.data !== undefined) {
          const p = await computeEmbeddingPlot({ ...o, model: o.model, data: o.data, mask: o.mask ?? [], maxPoints: DEFAULT_MAX_POINTS, show: showProgress() });
          const summary = formatEmbeddingSummary(p);
          process.stdout.write(summary);
          embedding = { title: 'Raw backbone vs learned state embedding', svg: await renderSvg(p.spec), caption: summary.trim() };
        }
        const html = await buildReportHtml(report, { embedding, source: o.eval });
        const path = await writeReport(outDir, html);
        process.stdout.write(`report written to ${path}\n`);
      }),
    );
}
