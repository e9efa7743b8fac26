import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '../../src/simulate/index.js';
import { fixtureReport } from './fixture.js';
import { maskArg, methodArg } from '../../src/cli/plot.js';
import { cliWith, repo, writeUntrainedCheckpoint } from '../helpers/cli.js';

const harness = join(repo, 'test/report/cli-harness.ts');

const cli = cliWith({ entry: harness, timeout: 180_000 });

test('plot embedding writes SVG and PNG with both spaces and their silhouettes; report embeds it', { timeout: 170_000 }, async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'rs-plot-cli-'));
  try {
    const sim = join(tmp, 'sim');
    await simulate({ outDir: sim, hours: 2, seed: 21, faults: 3 });
    const model = join(tmp, 'm.rsm');
    await writeUntrainedCheckpoint(model, 'hash:dim=32');
    const svg = join(tmp, 'e.svg');
    const png = join(tmp, 'e.png');
    const cache = ['--no-cache'];
    const r = cli('plot', 'embedding', '--model', model, '--data', sim, '--out', svg, '--png', png, '--seed', '4', '--mask', 'logs', '--json', ...cache);
    assert.equal(r.code, 0, r.err);
    const s = JSON.parse(r.out) as { windows: number; mask: string[]; spaces: { name: string; k: number; stateSilhouette: { value: number | null }; typeSilhouette: { value: number | null } }[] };
    assert.deepEqual(s.mask, ['logs']);
    assert.equal(s.spaces.length, 2);
    assert.equal(s.spaces[0].name, 'raw backbone');
    assert.match(s.spaces[1].name, /^learned \(m\.rsm\)$/);
    for (const sp of s.spaces) assert.ok(sp.stateSilhouette.value !== null && sp.stateSilhouette.value > -1 && sp.stateSilhouette.value <= 1, JSON.stringify(sp));
    const text = await readFile(svg, 'utf8');
    assert.match(text, /^<svg /);
    assert.equal((text.match(/silhouette /g) ?? []).length >= 4, true, 'a silhouette in every panel title');
    assert.deepEqual([...(await readFile(png)).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    // same seed, same picture
    const again = join(tmp, 'again.svg');
    assert.equal(cli('plot', 'embedding', '--model', model, '--data', sim, '--out', again, '--seed', '4', '--mask', 'logs', ...cache).code, 0);
    assert.equal(await readFile(again, 'utf8'), text);

    const evalJson = join(tmp, 'EVAL.json');
    await writeFile(evalJson, JSON.stringify(fixtureReport()));
    const out = join(tmp, 'report');
    const rep = cli('report', '--eval', evalJson, '--model', model, '--data', sim, '--out', out, ...cache);
    assert.equal(rep.code, 0, rep.err);
    assert.match(rep.out, /report written to .*index\.html/);
    const html = await readFile(join(out, 'index.html'), 'utf8');
    assert.match(html, /Raw backbone vs learned state embedding/);
    assert.match(html, /learned \(m\.rsm\)/);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test('option parsers: modalities to mask and the projection', () => {
  assert.deepEqual(maskArg('traces, logs,traces'), ['traces', 'logs']);
  assert.throws(() => maskArg('metrics,traces,logs'), /nothing to embed/);
  assert.throws(() => maskArg('bogus'), /unknown modality bogus/);
  assert.equal(methodArg('tsne'), 'tsne');
  assert.throws(() => methodArg('pca'), /expected umap or tsne/);
});

test('usage and input errors are one line with exit 2 or 1, and outputs never replace inputs', async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'rs-report-cli-'));
  try {
    const evalJson = join(tmp, 'EVAL.json');
    await writeFile(evalJson, JSON.stringify(fixtureReport()));
    const ok = cli('report', '--eval', evalJson, '--out', join(tmp, 'r'));
    assert.equal(ok.code, 0, ok.err);
    assert.match(await readFile(join(tmp, 'r', 'index.html'), 'utf8'), /No embedding plot/);
    const cases: [string[], number, RegExp][] = [
      [['report', '--out', join(tmp, 'r')], 2, /--eval <file> is required/],
      [['report', '--eval', evalJson, '--out', join(tmp, 'r'), '--model', 'm.rsm'], 2, /--model and --data go together/],
      [['report', '--eval', join(tmp, 'missing.json'), '--out', join(tmp, 'r')], 1, /cannot open .*missing\.json: no such file/],
      [['plot', 'embedding', '--model', 'm.rsm', '--data', tmp, '--out', join(tmp, 'x.svg'), '--mask', 'bogus'], 2, /unknown modality bogus/],
      [['plot', 'embedding', '--model', evalJson, '--data', tmp, '--out', evalJson], 1, /refusing to overwrite an input/],
    ];
    await writeFile(join(tmp, 'bad.json'), '{"schemaVersion":1}');
    cases.push([['report', '--eval', join(tmp, 'bad.json'), '--out', join(tmp, 'r2')], 1, /not an evaluate report: no rows/]);
    for (const [args, code, re] of cases) {
      const r = cli(...args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, re, args.join(' '));
      assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});
