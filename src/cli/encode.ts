import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { checkOutput } from '../sources/index.js';
import { UserError } from '../telemetry/index.js';
import { EmbeddingCache, encodeDataset, formatPreview, previewViews } from '../encode/index.js';
import type { Window } from '../windows/index.js';
import { withEncodeProgress, allowRemoteOption, backboneOption, cacheDirOption, noCacheOption, openCache, positiveIntArg, run, showProgress, splitArg, warnStrideGap, windowOption, strideOption, faultDurationOption, openDataset, noteDataProblems, type CacheCliOptions } from './common.js';

interface EncodeCliOptions extends CacheCliOptions {
  backbone: string;
  out?: string;
  window: number;
  stride: number;
  faultDuration: number;
  entities: boolean;
  evidence: boolean;
  text?: boolean;
  showText?: number;
  fitBefore?: number;
  fitSplit?: 'train' | 'test';
  json?: boolean;
}

function timeArg(value: string): number {
  const t = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(t)) throw new InvalidArgumentError(`expected an ISO-8601 time or epoch ms, got "${value}"`);
  return t;
}

export function register(program: Command): void {
  program
    .command('encode')
    .description('build each window\'s views (text + numeric features per modality, system and per service) and embed them with a backbone; writes an Arrow IPC file')
    .argument('<path>', 'telemetry folder (Nezha, AIOps 2022 events, OTLP JSON)')
    .addOption(backboneOption())
    .option('--out <file>', 'Arrow IPC file to write (.arrow); never one of the inputs or inside the input folder')
    .addOption(windowOption())
    .addOption(strideOption())
    .addOption(faultDurationOption())
    .option('--no-entities', 'system-level rows only (no per-service rows)')
    .option('--no-evidence', 'leave out the root-cause evidence per service and pod (written beside --out as <name>.evidence.arrow)')
    .option('--text', 'also write the view text of each row')
    .option('--show-text [n]', 'print the view texts of the first n non-empty windows (default 3) instead of encoding; writes nothing, so not with --out', positiveIntArg)
    .addOption(noCacheOption())
    .addOption(cacheDirOption())
    .addOption(allowRemoteOption())
    .option('--fit-before <time>', 'learn baselines only from windows ending before this time (ISO-8601 or epoch ms)', timeArg)
    .option('--fit-split <split>', 'case-based data: learn baselines only from cases of this split (train|test)', splitArg)
    .option('--json', 'print the result summary as one JSON object')
    .action((path: string, o: EncodeCliOptions) =>
      run(async () => {
        if (o.showText !== undefined && o.out) throw new UserError('--show-text prints view texts instead of encoding and writes no file: drop --out, or drop --show-text to encode', 2);
        if (o.showText === undefined && !o.out) throw new UserError('--out <file> is required (or use --show-text)', 2);
        // before any work: an output that replaces the input, or cannot be written, is refused now
        if (o.out) checkOutput(o.out, [path]);
        const spec = { lengthMs: o.window, strideMs: o.stride };
        warnStrideGap(spec);
        const ds = await openDataset(path, { faultDurationMs: o.faultDuration });
        const splitOf = new Map(ds.cases?.map((c) => [c.id, c.split]));
        const fitFilter =
          o.fitBefore !== undefined || o.fitSplit
            ? (w: Window) => (o.fitBefore === undefined || w.end <= o.fitBefore) && (!o.fitSplit || (w.caseId !== undefined && splitOf.get(w.caseId) === o.fitSplit))
            : undefined;
        if (o.showText !== undefined) {
          const n = typeof o.showText === 'number' ? o.showText : 3;
          process.stdout.write(formatPreview(await previewViews(ds, spec, n, { fitFilter })));
          return;
        }
        if (!o.out) return; // checked above; narrows the type
        const cache = openCache(o);
        try {
          const out = o.out;
          const r = await withEncodeProgress(showProgress(o.json), undefined, (onProgress) =>
            encodeDataset(ds, {
              spec,
              backboneSpec: o.backbone,
              backboneOptions: { allowRemote: o.allowRemote },
              cache,
              entities: o.entities,
              evidence: o.evidence,
              includeText: o.text,
              fitFilter,
              out,
              onProgress,
            }),
          );
          const summary = { out: r.path, evidence: r.evidencePath, evidenceRows: r.evidenceRows, windows: r.windows, trainWindows: r.trainWindows, rows: r.rows, texts: r.texts, dim: r.dim, backbone: r.backboneId, timings: r.timings };
          noteDataProblems(ds, path);
          process.stdout.write(o.json ? JSON.stringify(summary) + '\n' : `wrote ${r.path}: ${r.rows} rows (${r.windows} windows, ${r.dim}-d ${r.backboneId}) in ${(r.timings.totalMs / 1000).toFixed(1)} s${r.evidencePath ? `; evidence: ${r.evidenceRows} rows in ${r.evidencePath}` : ''}\n`);
        } finally {
          cache?.close();
        }
      }),
    );

  program
    .command('cache')
    .description('the on-disk embedding cache: size, or clear it')
    .addOption(cacheDirOption('--dir <dir>', 'cache folder'))
    .option('--clear', 'delete every cached vector')
    .option('--json', 'print one JSON object')
    .action((o: { dir?: string; clear?: boolean; json?: boolean }) =>
      run(async () => {
        const cache = new EmbeddingCache({ dir: o.dir });
        try {
          if (o.clear) cache.clear();
          const s = cache.size();
          process.stdout.write(o.json ? JSON.stringify({ dir: cache.dir, ...s }) + '\n' : `${cache.dir}: ${s.entries} vectors, ${(s.bytes / 1048576).toFixed(1)} MiB${o.clear ? ' (cleared)' : ''}\n`);
        } finally {
          cache.close();
        }
      }),
    );
}
