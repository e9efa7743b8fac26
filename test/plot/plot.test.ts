import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderSvg, svgToPng, scopeSvgIds, groupedBarSpec, timelineSpec, project2d, embeddingPlot, sampleWindows } from '../../src/plot/index.js';
import type { EncodedWindow } from '../../src/model/index.js';
import { SeededRng } from '../../src/telemetry/index.js';

const bars = groupedBarSpec(
  [
    { group: 'cpu', series: 'evidence', value: 0.8, n: 10 },
    { group: 'cpu', series: 'model', value: 0.5, n: 10 },
    { group: 'network', series: 'evidence', value: 0.3, n: 4 },
    { group: 'network', series: 'model', value: null, n: 4 },
  ],
  { title: 'AC@1 by fault type', yTitle: 'AC@1' },
);

function pngSize(png: Buffer): { w: number; h: number } {
  return { w: png.readUInt32BE(16), h: png.readUInt32BE(20) };
}

test('a bar chart renders to SVG with one bar per measurable value and an n/m mark for the rest', async () => {
  const svg = await renderSvg(bars);
  assert.match(svg, /^<svg /);
  const barGroup = svg.match(/<g class="mark-rect role-mark[^"]*"[^>]*>(.*?)<\/g>/s);
  assert.ok(barGroup, 'a rect mark group');
  assert.equal((barGroup[1].match(/<path /g) ?? []).length, 3, 'three measurable bars');
  assert.equal((svg.match(/>n\/m</g) ?? []).length, 1, 'the unmeasurable value is labelled n/m');
  assert.match(svg, /AC@1 by fault type/);
  assert.equal(await renderSvg(bars), svg, 'same spec, same bytes');
  assert.doesNotMatch(svg, /20\d\d-\d\d-\d\dT/, 'no timestamps');
});

test('the PNG has the PNG signature and the SVG size times the scale', async () => {
  const svg = await renderSvg(bars);
  const w = Number(/width="(\d+)"/.exec(svg)?.[1]);
  const h = Number(/height="(\d+)"/.exec(svg)?.[1]);
  const png = svgToPng(svg, { scale: 2 });
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.deepEqual(pngSize(png), { w: 2 * w, h: 2 * h });
  assert.ok(png.length > 2000, `a plausible PNG (${png.length} bytes)`);
});

test('a timeline lays spans out in UTC whatever the time zone', async () => {
  const t0 = Date.UTC(2022, 4, 1, 10, 0);
  const spec = timelineSpec(
    [
      { start: t0, end: t0 + 3_600_000, lane: 'state', label: 'state 1' },
      { start: t0 + 600_000, end: t0 + 900_000, lane: 'fault', label: 'cpu' },
    ],
    { title: 't', lanes: ['state', 'fault'] },
  );
  const svg = await renderSvg(spec);
  assert.match(svg, /05-01 10:00/);
});

test('scopeSvgIds prefixes ids and their references only', () => {
  const svg = '<svg><defs><clipPath id="clip1"><rect/></clipPath></defs><g clip-path="url(#clip1)"></g><use href="#other"/></svg>';
  const out = scopeSvgIds(svg, 'c2-');
  assert.match(out, /id="c2-clip1"/);
  assert.match(out, /url\(#c2-clip1\)/);
  assert.match(out, /href="#other"/);
});

/** Windows in three separated clusters (two fault types and normal) in 8 dimensions. */
function clustered(n: number, seed = 1): EncodedWindow[] {
  const rng = new SeededRng(seed, 'fixture');
  const centres = [0, 1, 2].map((c) => Float32Array.from({ length: 8 }, (_, i) => (i % 3 === c ? 1 : 0)));
  return Array.from({ length: n }, (_, i) => {
    const c = i % 3;
    const v = Float32Array.from(centres[c], (x) => x + (rng.next() - 0.5) * 0.2);
    return {
      source: 'fixture',
      window: { index: i, start: i * 60_000, end: i * 60_000 + 300_000 },
      label: c === 0 ? { abnormal: false } : { abnormal: true, type: c === 1 ? 'cpu' : 'memory' },
      inputs: { metrics: v },
    } as EncodedWindow;
  });
}

test('projections are seeded: same rows and seed, same coordinates', () => {
  const rows = clustered(60).map((w) => w.inputs.metrics as Float32Array);
  for (const method of ['umap', 'tsne'] as const) {
    const a = project2d(rows, { method, seed: 3, iterations: 60 });
    const b = project2d(rows, { method, seed: 3, iterations: 60 });
    assert.deepEqual(a, b, method);
    assert.equal(a.length, 60);
    assert.ok(a.every(([x, y]) => Number.isFinite(x) && Number.isFinite(y)), method);
  }
});

test('embeddingPlot finds the states, measures silhouettes in the space and masks modalities', async () => {
  const windows = clustered(90);
  const asIs = { name: 'clustered', embed: (ws: readonly EncodedWindow[]) => ws.map((w) => w.inputs.metrics as Float32Array) };
  const rng = new SeededRng(9, 'noise');
  const noise = { name: 'noise', embed: (ws: readonly EncodedWindow[]) => ws.map(() => Float32Array.from({ length: 8 }, () => rng.next() - 0.5)) };
  const plot = embeddingPlot(windows, [noise, asIs], { method: 'umap', seed: 1 });
  assert.equal(plot.n, 90);
  const [n, c] = plot.spaces;
  assert.equal(c.k, 3, 'three clusters found');
  assert.ok((c.typeSilhouette.value ?? 0) > 0.6, `clustered space separates the types (${c.typeSilhouette.value})`);
  assert.ok((n.typeSilhouette.value ?? 1) < 0.1, `noise does not (${n.typeSilhouette.value})`);
  const svg = await renderSvg(plot.spec);
  assert.equal((svg.match(/role-mark/g) ?? []).length >= 4, true, 'four scatter panels');
  assert.match(svg, /silhouette 0\.\d{3}/);
  // every window has metrics only: masking metrics leaves nothing to draw
  const empty = embeddingPlot(windows, [asIs], { mask: ['metrics'] });
  assert.equal(empty.n, 0);
  assert.equal(empty.spaces[0].typeSilhouette.value, null);
});

test('sampling keeps fault windows first and stays in time order', () => {
  const windows = clustered(300);
  const s = sampleWindows(windows, 100, 0);
  assert.equal(s.length, 100);
  assert.ok(s.filter((w) => w.label.abnormal).length >= 50);
  assert.deepEqual(
    s.map((w) => w.window.start),
    s.map((w) => w.window.start).sort((a, b) => a - b),
  );
});
