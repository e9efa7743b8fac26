/**
 * Simulator benchmark: `simulate` for six simulated hours (20 faults) into a temporary folder,
 * files included, N times; prints the median wall time, output size and counts.
 *
 *   npm run bench -- simulate [--runs N] [--hours H] [--faults N] [--seed S]
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '../src/simulate/index.js';
import type { SimulateSummary } from '../src/simulate/index.js';

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name}: expected a number, got ${args[i + 1]}`);
  return v;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const mb = (bytes: number) => (bytes / 1e6).toFixed(1) + ' MB';

export default async function (args: string[]): Promise<void> {
  const runs = Math.max(1, Math.round(option(args, '--runs', 3)));
  const hours = option(args, '--hours', 6);
  const faults = Math.round(option(args, '--faults', 20));
  const seed = Math.round(option(args, '--seed', 1));
  const walls: number[] = [];
  const cpus: number[] = [];
  let last: SimulateSummary | undefined;
  let bytes = 0;
  const sizes: Record<string, number> = {};
  for (let r = 0; r < runs; r++) {
    const dir = mkdtempSync(join(tmpdir(), 'rs-bench-sim-'));
    try {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      last = await simulate({ outDir: dir, hours, seed, faults });
      const wall = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(c0);
      walls.push(wall);
      cpus.push((cpu.user + cpu.system) / 1e6);
      bytes = 0;
      for (const f of readdirSync(dir)) {
        sizes[f] = statSync(join(dir, f)).size;
        bytes += sizes[f];
      }
      console.log(`run ${r + 1}/${runs}: ${wall.toFixed(2)} s wall, ${cpus[cpus.length - 1].toFixed(2)} s CPU`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const s = last!;
  console.log(`simulate ${hours} h, ${faults} faults, seed ${seed} (${runs} run${runs > 1 ? 's' : ''}, files written to a temp dir)`);
  console.log(`  median wall      ${median(walls).toFixed(2)} s   (runs: ${walls.map((w) => w.toFixed(2)).join(', ')})`);
  console.log(`  median CPU       ${median(cpus).toFixed(2)} s`);
  console.log(`  peak RSS         ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (whole process)`);
  console.log(`  output           ${mb(bytes)}: ${Object.entries(sizes).map(([f, n]) => `${f} ${mb(n)}`).join(', ')}`);
  console.log(`  entities         ${s.entities.services} services, ${s.entities.pods} pods, ${s.entities.nodes} nodes`);
  console.log(`  metrics          ${s.counts.metricSeries} series, ${s.counts.metricPoints} points (${s.counts.metricMissing} NaN)`);
  console.log(`  traces           ${s.counts.traces} traces, ${s.counts.spans} spans`);
  console.log(`  logs             ${s.counts.logs} records`);
  console.log(`  faults           ${s.faults}: ${Object.entries(s.faultsByType).map(([t, n]) => `${t} ${n}`).join(', ')}`);
  console.log(`  regimes (min)    ${Object.entries(s.regimeMinutes).map(([r, n]) => `${r} ${n}`).join(', ')}`);
}
