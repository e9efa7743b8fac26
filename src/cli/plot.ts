import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { basename } from 'node:path';
import { UserError, type Modality } from '../telemetry/index.js';
import { createBackbone } from '../encode/index.js';
import { MODALITIES, checkCompatible, currentFeatureLayouts, encodeWindows, loadCheckpoint } from '../model/index.js';
import { modelEmbedder, rawBackboneEmbedder } from '../eval/index.js';
import { checkOutput } from '../sources/index.js';
import { DEFAULT_MAX_POINTS, PROJECTION_METHODS, embeddingPlot, formatMeasure, renderSvg, svgToPng, writeFileAtomic, type EmbeddingPlot, type ProjectionMethod } from '../plot/index.js';
import { addModelDataOptions, modelWindowSpec, nonNegativeIntArg, noteDataProblems, openCache, openDataset, positiveIntArg, withEncodeProgress, run, showProgress, type CacheCliOptions } from './common.js';

/** `--mask traces,logs`: modalities to treat as absent. */
export function maskArg(value: string): Modality[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = names.filter((n) => !(MODALITIES as readonly string[]).includes(n));
  if (bad.length) throw new InvalidArgumentError(`unknown modality ${bad.join(', ')} (expected some of ${MODALITIES.join(', ')})`);
  if (new Set(names).size === MODALITIES.length) throw new InvalidArgumentError('masking every modality leaves nothing to embed');
  return [...new Set(names)] as Modality[];
}

export function methodArg(value: string): ProjectionMethod {
  if (!(PROJECTION_METHODS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected ${PROJECTION_METHODS.join(' or ')}, got "${value}"`);
  return value as ProjectionMethod;
}

export interface EmbeddingPlotRequest extends CacheCliOptions {
  model: string;
  data: string;
  method: ProjectionMethod;
  seed: number;
  mask: Modality[];
  k?: number;
  maxPoints: number;
  window?: number;
  stride?: number;
  faultDuration: number;
  /** show a progress bar (stderr is a terminal and no --json) */
  show: boolean;
}

/**
 * Loads the model and the data, encodes the windows with the model's backbone and window, and
 * lays out the raw-backbone vs learned-embedding comparison. Shared by `plot embedding` and
 * `report --model --data`.
 */
export async function computeEmbeddingPlot(o: EmbeddingPlotRequest): Promise<EmbeddingPlot> {
  const { header, model } = await loadCheckpoint(o.model);
  const views = currentFeatureLayouts();
  const spec = modelWindowSpec(o, header.window);
  const backbone = await createBackbone(header.backbone.spec, { allowRemote: o.allowRemote });
  const cache = openCache(o);
  try {
    checkCompatible(header, { backboneId: backbone.id, dim: backbone.dim, viewsVersion: views.viewsVersion, layouts: views.layouts }, `data for ${o.model}`);
    const ds = await openDataset(o.data, { faultDurationMs: o.faultDuration });
    const windows = await withEncodeProgress(o.show, basename(o.data), (onProgress) => encodeWindows(ds, { spec, backbone, cache, onProgress }));
    noteDataProblems(ds, o.data);
    if (windows.length === 0) throw new UserError(`${o.data} has no windows to plot`);
    const embedders = [
      { name: 'raw backbone', embed: rawBackboneEmbedder(backbone.dim) },
      { name: `learned (${basename(o.model)})`, embed: modelEmbedder(model) },
    ];
    const plot = embeddingPlot(windows, embedders, { method: o.method, seed: o.seed, mask: o.mask, k: o.k, maxPoints: o.maxPoints });
    if (plot.n === 0) throw new UserError(`no window of ${o.data} keeps a modality after --mask ${o.mask.join(',')}`);
    return plot;
  } finally {
    cache?.close();
    await backbone.dispose?.();
  }
}

/** The plot's figures without the chart, for --json and the report. */
export function embeddingSummary(p: EmbeddingPlot): Record<string, unknown> {
  return {
    method: p.method,
    seed: p.seed,
    mask: p.mask,
    windows: p.n,
    of: p.total,
    spaces: p.spaces.map((s) => ({ name: s.name, k: s.k, stateSilhouette: s.stateSilhouette, typeSilhouette: s.typeSilhouette })),
  };
}

export function formatEmbeddingSummary(p: EmbeddingPlot): string {
  const lines = [`${p.method} of ${p.n} windows${p.n < p.total ? ` (sampled from ${p.total}, fault windows first)` : ''}, seed ${p.seed}${p.mask.length ? `, masked ${p.mask.join(', ')}` : ''}; silhouettes in the embedding space (cosine):`];
  for (const s of p.spaces) lines.push(`  ${s.name}: k-means states k=${s.k} silhouette ${formatMeasure(s.stateSilhouette)}; fault type silhouette ${formatMeasure(s.typeSilhouette)}`);
  return lines.join('\n') + '\n';
}

interface PlotEmbeddingCliOptions extends CacheCliOptions {
  model?: string;
  data?: string;
  out?: string;
  png?: string;
  method: ProjectionMethod;
  mask?: Modality[];
  seed: number;
  k?: number;
  maxPoints: number;
  window?: number;
  stride?: number;
  faultDuration: number;
  json?: boolean;
}

/** `runtimeslicer plot embedding`: the paper's Figure 4 comparison (docs/report.md). */
export function registerPlot(program: Command): void {
  const plot = program.command('plot').description('charts rendered headless to SVG (and PNG): see `plot embedding`');
  const embedding = plot
    .command('embedding')
    .description('2-D UMAP or t-SNE (seeded) of the raw backbone vectors beside the learned state embedding, coloured by k-means state and by fault type, with each panel\'s silhouette (docs/report.md)')
    .option('--model <file>', 'trained model (its backbone and window are used)')
    .option('--data <path>', 'telemetry folder')
    .option('--out <file.svg>', 'SVG to write')
    .option('--png <file.png>', 'also write a PNG')
    .option('--method <name>', `projection: ${PROJECTION_METHODS.join(' or ')}`, methodArg, 'umap')
    .option('--mask <modalities>', 'modalities to treat as absent, comma-separated (e.g. traces,logs)', maskArg)
    .option('--seed <n>', 'seed of the projection, k-means and sampling', nonNegativeIntArg, 0)
    .option('--k <n>', 'k-means states per space (default: chosen by silhouette, 2–8)', positiveIntArg)
    .option('--max-points <n>', 'windows drawn at most (fault windows kept first)', positiveIntArg, DEFAULT_MAX_POINTS);
  addModelDataOptions(embedding)
    .option('--json', 'print the silhouettes as one JSON object')
    .action((o: PlotEmbeddingCliOptions) =>
      run(async () => {
        if (!o.model) throw new UserError('--model <file> is required', 2);
        if (!o.data) throw new UserError('--data <path> is required', 2);
        if (!o.out) throw new UserError('--out <file.svg> is required', 2);
        const inputs = [o.model, o.data];
        const out = checkOutput(o.out, inputs);
        const png = o.png !== undefined ? checkOutput(o.png, inputs, { label: '--png' }) : undefined;
        if (png !== undefined && png === out) throw new UserError('--png and --out name the same file', 2);
        const p = await computeEmbeddingPlot({ ...o, model: o.model, data: o.data, mask: o.mask ?? [], show: showProgress(o.json) });
        const svg = await renderSvg(p.spec);
        await writeFileAtomic(out, svg);
        if (png !== undefined) await writeFileAtomic(png, svgToPng(svg));
        if (o.json) process.stdout.write(JSON.stringify({ ...embeddingSummary(p), out, png }) + '\n');
        else process.stdout.write(formatEmbeddingSummary(p) + `wrote ${out}${png ? ` and ${png}` : ''}\n`);
      }),
    );
}
