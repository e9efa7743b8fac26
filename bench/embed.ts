/**
 * Embedding throughput of a model (default shape: 512 hidden, 256 modality, 128 state) over all
 * windows of a real folder, once the backbone vectors exist. Target (issue 7): ≥ 5,000
 * windows/s. Prints medians of:
 *   - model: embedWindows over the windows in memory (forward passes only);
 *   - from encode output: read an `encode` Arrow file + embed + write the embeddings file,
 *     i.e. `runtimeslicer embed --data views.arrow` without process start-up;
 *   - from the folder with a warm cache (--folder): views are rebuilt, vectors come from the
 *     cache — bounded by the views, not the model; one run.
 *
 *   npm run bench -- embed [--data PATH] [--runs 5] [--batch 1024] [--entities] [--folder]
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmbeddingCache, EmbeddingsWriter, HashBackbone, encodeDataset } from '../src/encode/index.js';
import { embedWindows, embeddingRows, encodeWindows, entityNames, readEncodedWindows, toStateBatch, windowInputDims } from '../src/model/data.js';
import { engineInfo, StateModel } from '../src/model/index.js';
import { loadDataset } from '../src/sources/index.js';
import { arg, median } from './util.js';



export default async function (args: string[]): Promise<void> {
  const datasets = process.env.RS_DATASETS ?? fileURLToPath(new URL('../../shared/datasets', import.meta.url));
  const data = arg(args, 'data', `${datasets}/nezha-trainticket`);
  if (!existsSync(data)) {
    console.log(`embed bench: ${data} absent; skipped`);
    return;
  }
  const runs = Number(arg(args, 'runs', '5'));
  const batchSize = Number(arg(args, 'batch', '1024'));
  const entities = args.includes('--entities');
  const spec = { lengthMs: 5 * 60_000, strideMs: 60_000 };
  const tmp = mkdtempSync(join(tmpdir(), 'rs-bench-embed-'));
  try {
    const cache = new EmbeddingCache({ dir: join(tmp, 'cache') });
    const backbone = new HashBackbone();
    const ds = await loadDataset(data);
    const views = join(tmp, 'views.arrow');
    const te = performance.now();
    const enc = await encodeDataset(ds, { spec, backbone, cache, entities, out: views });
    console.log(`encode (once, fills the cache): ${enc.windows} windows, ${enc.rows} rows in ${((performance.now() - te) / 1000).toFixed(1)} s`);

    const { windows } = await readEncodedWindows(views, { entities });
    const model = new StateModel({ inputDims: windowInputDims(backbone.dim), seed: 1 });
    model.fitNormalizers(toStateBatch(windows));
    const n = windows.length;

    const modelTimes: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t = performance.now();
      embedWindows(model, windows, { batchSize });
      modelTimes.push((performance.now() - t) / 1000);
    }
    const fileTimes: number[] = [];
    let rows = 0;
    for (let r = 0; r < runs; r++) {
      const t = performance.now();
      const { windows: ws } = await readEncodedWindows(views, { entities });
      const w = await EmbeddingsWriter.open(join(tmp, 'emb.arrow'));
      await w.write(embeddingRows(ws, embedWindows(model, ws, { batchSize })));
      if (entities) for (const e of entityNames(ws)) {
        const part = ws.filter((x) => x.entities?.has(e));
        await w.write(embeddingRows(part, embedWindows(model, part, { batchSize, entity: e }), e));
      }
      await w.close();
      rows = w.rows;
      fileTimes.push((performance.now() - t) / 1000);
    }
    console.log(`engine ${engineInfo().name}; ${n} windows (${data}), batch ${batchSize}${entities ? ', with per-service rows' : ''}; ${model.parameterCount()} parameters`);
    console.log(`first (cold) runs: model ${modelTimes[0].toFixed(3)} s, file → file ${fileTimes[0].toFixed(3)} s (ORT sessions and JIT warm up)`);
    console.log(`model only: median ${median(modelTimes).toFixed(3)} s over ${runs} runs = ${(n / median(modelTimes)).toFixed(0)} windows/s (target ≥ 5000)`);
    console.log(`encode file → embeddings file (${rows} rows): median ${median(fileTimes).toFixed(3)} s = ${(n / median(fileTimes)).toFixed(0)} windows/s`);
    if (args.includes('--folder')) {
      const t = performance.now();
      const ws = await encodeWindows(await loadDataset(data), { spec, backbone, cache, entities });
      const tv = performance.now();
      embedWindows(model, ws, { batchSize });
      const tm = performance.now();
      console.log(`folder with a warm cache: views + cached vectors ${((tv - t) / 1000).toFixed(1)} s, model ${((tm - tv) / 1000).toFixed(2)} s = ${(ws.length / ((tm - t) / 1000)).toFixed(0)} windows/s end to end`);
    }
    cache.close();
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
