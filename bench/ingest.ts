/**
 * Ingest benchmark: read, parse and window (5m length, 1m stride by default) a whole Nezha
 * export, as `runtimeslicer` does before encoding. Each run is a fresh child process, so wall
 * time and peak RSS are that run's own. The floor is `zcat -f <the same files> | wc -lc` timed
 * in the same run: decompressing and counting lines is the least any reader has to do.
 *
 *   npm run bench -- ingest [--runs N] [--path FOLDER] [--length 5m] [--stride 1m]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openNezha } from '../src/sources/nezha/index.js';
import { parseDuration } from '../src/telemetry/index.js';
import { windowStream } from '../src/windows/index.js';

interface RunResult {
  wallS: number;
  /** user + system CPU of the run (the machine is shared: CPU time is steadier than wall) */
  cpuS: number;
  openS: number;
  peakRssMiB: number;
  windows: number;
  metricPoints: number;
  spans: number;
  logs: number;
  problems: number;
}

interface Floor {
  wallS: number;
  lines: number;
  bytes: number;
}

const defaultPath = () =>
  join(process.env.RS_DATASETS ?? fileURLToPath(new URL('../../shared/datasets', import.meta.url)), 'nezha-trainticket');

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** One measured ingest, in this process. */
async function runOnce(path: string, lengthMs: number, strideMs: number): Promise<RunResult> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const ds = await openNezha(path);
  const t1 = performance.now();
  let windows = 0;
  let metricPoints = 0;
  let spans = 0;
  let logs = 0;
  for await (const w of windowStream(ds, { lengthMs, strideMs })) {
    windows++;
    for (const m of w.metrics) metricPoints += m.times.length;
    spans += w.spans.length;
    logs += w.logs.length;
  }
  const t2 = performance.now();
  return {
    wallS: (t2 - t0) / 1000,
    cpuS: (() => {
      const c = process.cpuUsage(c0);
      return (c.user + c.system) / 1e6;
    })(),
    openS: (t1 - t0) / 1000,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    windows,
    metricPoints,
    spans,
    logs,
    problems: ds.problems.total,
  };
}

/** The floor over the files the reader reads: decompress and count lines. */
function floor(files: string[]): Floor {
  const t0 = performance.now();
  const r = spawnSync('sh', ['-c', 'zcat -f -- "$@" | wc -lc', 'floor', ...files], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const wallS = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`floor command failed: ${r.stderr}`);
  const [lines, bytes] = r.stdout.trim().split(/\s+/).map(Number);
  return { wallS, lines, bytes };
}

function child(args: string[]): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const p = spawn(process.execPath, [...process.execArgv, fileURLToPath(new URL('./run.ts', import.meta.url)), 'ingest', '--child', ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`benchmark child exited with ${code}`));
      resolvePromise(JSON.parse(out.trim().split('\n').pop() ?? '{}') as RunResult);
    });
  });
}

export default async function ingest(args: string[]): Promise<void> {
  const path = resolve(option(args, '--path') ?? defaultPath());
  const lengthMs = parseDuration(option(args, '--length') ?? '5m');
  const strideMs = parseDuration(option(args, '--stride') ?? '1m');
  if (args.includes('--child')) {
    process.stdout.write(JSON.stringify(await runOnce(path, lengthMs, strideMs)) + '\n');
    return;
  }
  if (!existsSync(path)) {
    console.error(`no dataset at ${path} (set RS_DATASETS or pass --path)`);
    process.exitCode = 1;
    return;
  }
  const runs = Math.max(1, Number(option(args, '--runs') ?? 3));
  const ds = await openNezha(path);
  const files = ds.sourceFiles.map((f) => join(ds.root, f));
  const compressed = files.reduce((s, f) => s + statSync(f).size, 0);
  const passArgs = ['--path', path, '--length', String(lengthMs), '--stride', String(strideMs)];

  const results: RunResult[] = [];
  const floors: Floor[] = [];
  for (let i = 0; i < runs; i++) {
    floors.push(floor(files));
    const r = await child(passArgs);
    results.push(r);
    console.error(`run ${i + 1}/${runs}: ${r.wallS.toFixed(2)} s, CPU ${r.cpuS.toFixed(2)} s (open ${r.openS.toFixed(2)} s), peak RSS ${r.peakRssMiB.toFixed(0)} MiB; floor ${floors[i].wallS.toFixed(2)} s`);
  }
  const wall = median(results.map((r) => r.wallS));
  const floorWall = median(floors.map((f) => f.wallS));
  const bytes = floors[0].bytes;
  const r0 = results[0];
  console.log(`ingest ${path}`);
  console.log(`  files read        ${files.length} (${(compressed / 2 ** 20).toFixed(1)} MiB as stored, ${(bytes / 1e6).toFixed(1)} MB of CSV/JSON, ${floors[0].lines} lines)`);
  console.log(`  windows           ${r0.windows} × ${lengthMs / 60_000} min / ${strideMs / 60_000} min stride; per-window sums: ${r0.metricPoints} metric points, ${r0.spans} spans, ${r0.logs} logs; ${r0.problems} data problems reported`);
  console.log(`  wall (median/${runs}) ${wall.toFixed(2)} s  [runs: ${results.map((r) => r.wallS.toFixed(2)).join(', ')}]  (open ${median(results.map((r) => r.openS)).toFixed(2)} s)`);
  console.log(`  CPU (median)      ${median(results.map((r) => r.cpuS)).toFixed(2)} s user+system (main thread + zlib threads)`);
  console.log(`  throughput        ${(bytes / 1e6 / wall).toFixed(1)} MB/s of uncompressed CSV`);
  console.log(`  peak RSS          ${Math.max(...results.map((r) => r.peakRssMiB)).toFixed(0)} MiB (max over runs)`);
  console.log(`  floor zcat|wc -lc ${floorWall.toFixed(2)} s (median)  → ingest/floor ratio ${(wall / floorWall).toFixed(2)}`);
}
