/**
 * Encode benchmark: views (fitting pass and views pass, system and per service) and the `hash`
 * backbone over a whole dataset folder (Nezha by default), 5 min windows stepped by 1 min,
 * writing the Arrow file to a temporary folder. Wall time includes opening the dataset. Prints
 * windows/s, texts/s and where the time goes: read (main thread: reading and windowing, both
 * passes), views (main thread), embed and write (done in the writer thread when threaded, so
 * they overlap the views), wait (main thread waiting for the threads), and CPU of all threads.
 * Target: ≤ 10 s median on nezha-trainticket.
 *
 *   npm run bench -- encode [--runs N] [--path FOLDER] [--length 5m] [--stride 1m]
 *                           [--backbone hash] [--no-entities] [--text] [--no-threads]
 *                           [--no-evidence | --compare-evidence] [--evidence-thread]
 *
 * `--no-evidence` leaves out the root-cause evidence rows (docs/views.md, "Evidence features"),
 * to measure what they cost. `--compare-evidence` runs both, interleaved (without, with,
 * with, without, …, `--runs` of each), so a shared machine's changing load falls on both alike, and
 * prints the medians and the ratios of wall and CPU time (CPU — user+system of all threads —
 * is the less load-sensitive of the two). `main` is the CPU of the main thread alone (Linux, from
 * /proc; NaN elsewhere): the work the other threads cannot take over, and on a quiet machine the
 * wall time's floor. `--evidence-thread` makes the evidence in a thread of its own (encode's
 * `evidenceThread`).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDataset } from '../src/sources/index.js';
import { parseDuration } from '../src/telemetry/index.js';
import { encodeDataset, type EncodeResult } from '../src/encode/index.js';

const defaultPath = () => join(process.env.RS_DATASETS ?? fileURLToPath(new URL('../../shared/datasets', import.meta.url)), 'nezha-trainticket');

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** CPU seconds (user + system) of the main thread so far; NaN where /proc has no thread stats. */
function mainThreadCpu(): number {
  try {
    const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (100 / s on Linux)
  } catch {
    return NaN;
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export default async function encode(args: string[]): Promise<void> {
  const path = resolve(option(args, '--path') ?? defaultPath());
  if (!existsSync(path)) {
    console.error(`no dataset at ${path} (set RS_DATASETS or pass --path)`);
    process.exitCode = 1;
    return;
  }
  const lengthMs = parseDuration(option(args, '--length') ?? '5m');
  const strideMs = parseDuration(option(args, '--stride') ?? '1m');
  const runs = Math.max(1, Number(option(args, '--runs') ?? 3));
  const backboneSpec = option(args, '--backbone') ?? 'hash';
  const entities = !args.includes('--no-entities');
  const includeText = args.includes('--text');
  const threads = !args.includes('--no-threads');
  const evidence = !args.includes('--no-evidence');
  const compare = args.includes('--compare-evidence');
  const evidenceThread = args.includes('--evidence-thread');
  let firstRss = 0;
  const dir = mkdtempSync(join(tmpdir(), 'rs-bench-encode-'));
  type Run = EncodeResult & { wallS: number; cpuS: number; mainS: number; bytes: number };
  const results: Run[] = [];
  const without: Run[] = [];
  const once = async (i: number, evidence: boolean): Promise<Run> => {
    const c0 = process.cpuUsage();
    const m0 = mainThreadCpu();
    const t0 = performance.now();
    const ds = await loadDataset(path);
    const out = join(dir, `run${i}.arrow`);
    const r = await encodeDataset(ds, { spec: { lengthMs, strideMs }, backboneSpec, entities, includeText, out, threads, evidence, evidenceThread });
    const wallS = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const mainS = mainThreadCpu() - m0;
    const evOut = r.evidencePath;
    const bytes = statSync(out).size + (evOut ? statSync(evOut).size : 0);
    rmSync(out);
    if (evOut) rmSync(evOut);
    const run = { ...r, wallS, cpuS: (c.user + c.system) / 1e6, mainS, bytes };
    const t = r.timings;
    console.error(
      `run ${i + 1}/${runs}${compare ? (evidence ? ' evidence' : ' no-evidence') : ''}: ${wallS.toFixed(2)} s (read ${(t.readMs / 1000).toFixed(2)}, views ${(t.viewsMs / 1000).toFixed(2)}, embed ${(t.embedMs / 1000).toFixed(2)}, write ${(t.writeMs / 1000).toFixed(2)}, wait ${(t.waitMs / 1000).toFixed(2)}), CPU ${run.cpuS.toFixed(2)} s (main thread ${run.mainS.toFixed(2)} s)`,
    );
    return run;
  };
  try {
    for (let i = 0; i < runs; i++) {
      // the order alternates, so neither side always runs on a colder JIT
      if (compare && i % 2 === 0) without.push(await once(i, false));
      results.push(await once(i, compare || evidence));
      if (compare && i % 2 === 1) without.push(await once(i, false));
      if (i === 0) firstRss = process.resourceUsage().maxRSS / 1024;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const r = results[0];
  const wall = median(results.map((x) => x.wallS));
  const med = (f: (x: EncodeResult) => number) => median(results.map(f)) / 1000;
  console.log(`encode ${path}`);
  console.log(`  windows           ${r.windows} × ${lengthMs / 60000} min / ${strideMs / 60000} min stride (${r.trainWindows} fitted), entities ${entities ? 'on' : 'off'}`);
  console.log(`  rows (texts)      ${r.rows} → ${(r.bytes / 2 ** 20).toFixed(1)} MiB Arrow, backbone ${r.backboneId}`);
  console.log(`  evidence rows     ${evidence || compare ? `${r.evidenceRows} (services and pods)` : 'off'}`);
  console.log(`  wall (median/${runs})  ${wall.toFixed(2)} s  [runs: ${results.map((x) => x.wallS.toFixed(2)).join(', ')}]`);
  console.log(`  threads           ${r.timings.threaded.length ? r.timings.threaded.join(', ') : 'none'} (worker threads beside the main one)`);
  console.log(`  split (median)    read ${med((x) => x.timings.readMs).toFixed(2)} s · views ${med((x) => x.timings.viewsMs).toFixed(2)} s · embed ${med((x) => x.timings.embedMs).toFixed(2)} s · write ${med((x) => x.timings.writeMs).toFixed(2)} s · wait ${med((x) => x.timings.waitMs).toFixed(2)} s`);
  console.log(`  throughput        ${(r.windows / wall).toFixed(0)} windows/s, ${(r.texts / wall).toFixed(0)} texts/s`);
  console.log(`  CPU (median)      ${median(results.map((x) => x.cpuS)).toFixed(2)} s user+system, main thread ${median(results.map((x) => x.mainS)).toFixed(2)} s`);
  console.log(`  peak RSS          ${firstRss.toFixed(0)} MiB after the first run, ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB over all runs (whole process)`);
  if (compare) {
    const w0 = median(without.map((x) => x.wallS));
    const c0 = median(without.map((x) => x.cpuS));
    const c1 = median(results.map((x) => x.cpuS));
    const pct = (a: number, b: number) => `${a > b ? '+' : ''}${((a / b - 1) * 100).toFixed(0)} %`;
    console.log(`  without evidence  wall ${w0.toFixed(2)} s [runs: ${without.map((x) => x.wallS.toFixed(2)).join(', ')}], CPU ${c0.toFixed(2)} s [runs: ${without.map((x) => x.cpuS.toFixed(2)).join(', ')}]`);
    console.log(`  with evidence     wall ${wall.toFixed(2)} s, CPU ${c1.toFixed(2)} s [runs: ${results.map((x) => x.cpuS.toFixed(2)).join(', ')}]`);
    const m0 = median(without.map((x) => x.mainS));
    const m1 = median(results.map((x) => x.mainS));
    console.log(`  main thread CPU   without ${m0.toFixed(2)} s [runs: ${without.map((x) => x.mainS.toFixed(2)).join(', ')}], with ${m1.toFixed(2)} s [runs: ${results.map((x) => x.mainS.toFixed(2)).join(', ')}]`);
    console.log(`  evidence adds     wall ${pct(wall, w0)}, CPU ${pct(c1, c0)}, main thread CPU ${pct(m1, m0)} (medians)`);
  }
}
