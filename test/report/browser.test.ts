/**
 * The report page in a real headless browser (Debian's chromium driven by playwright-core):
 * the tables and charts render, nothing is logged as an error, and nothing but the file itself
 * is requested. Skips when /usr/bin/chromium is absent (.ci/run installs it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildReportHtml, writeReport } from '../../src/eval/report/index.js';
import { renderSvg, scatterGridSpec } from '../../src/plot/index.js';
import { fixtureReport } from './fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (apt-get install chromium; .ci/run does)`;

test('the report renders in headless chromium with no console error and no network request', { skip, timeout: 60_000 }, async () => {
  const { chromium } = await import('playwright-core');
  const dir = await mkdtemp(join(tmpdir(), 'rs-report-'));
  try {
    const embeddingSvg = await renderSvg(
      scatterGridSpec([{ panels: [{ title: 'raw', subtitle: 'silhouette 0.100', colourTitle: 'state', points: [{ x: 0, y: 0, colour: 'a' }, { x: 1, y: 1, colour: 'b' }] }], sharedColours: true }]),
    );
    const html = await buildReportHtml(fixtureReport({ dataset: 'aiops22-pod', timeline: true, evidence: true }), { embedding: { title: 'embedding', svg: embeddingSvg } });
    const page = await writeReport(join(dir, 'out'), html);
    const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const requests: string[] = [];
      const errors: string[] = [];
      context.on('request', (r) => requests.push(r.url()));
      const tab = context.pages()[0] ?? (await context.newPage());
      tab.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      tab.on('pageerror', (e) => errors.push(String(e)));
      await tab.goto(pathToFileURL(page).href, { waitUntil: 'load' });
      // A string, not a function: tsx would wrap named functions in a helper the page lacks.
      const stats = (await tab.evaluate(`(() => {
        const t1 = document.querySelector('table.table1');
        return {
          title: document.title,
          table1Rows: t1 ? t1.querySelectorAll('tr').length : 0,
          table1Visible: t1 ? t1.getBoundingClientRect().height > 0 : false,
          notMeasurable: [...document.querySelectorAll('table.table1 td.nm')].map((td) => td.textContent),
          paper: document.querySelector('tr.paper')?.textContent ?? '',
          caseRows: document.querySelectorAll('table.cases tr').length,
          charts: [...document.querySelectorAll('figure.chart > svg')].map((s) => ({ w: s.getBoundingClientRect().width, h: s.getBoundingClientRect().height, marks: s.querySelectorAll('[role="graphics-symbol"]').length, label: s.getAttribute('aria-label') })),
        };
      })()`)) as { title: string; table1Rows: number; table1Visible: boolean; notMeasurable: string[]; paper: string; caseRows: number; charts: { w: number; h: number; marks: number; label: string }[] };
      assert.deepEqual(errors, [], 'no console errors');
      assert.deepEqual(requests.filter((u) => !u.startsWith('file://')), [], 'no request beyond file://');
      assert.match(stats.title, /aiops22-pod/);
      assert.equal(stats.table1Rows, 2 + 4 + 1, 'two header rows, four methods and the paper row');
      assert.ok(stats.table1Visible);
      assert.ok(stats.notMeasurable.length >= 3 && stats.notMeasurable.every((t) => t === 'not measurable'));
      assert.match(stats.paper, /69\.57/);
      assert.equal(stats.caseRows, 1 + 6);
      // per-type bars, timeline, embedding
      assert.equal(stats.charts.length, 3, JSON.stringify(stats.charts));
      for (const c of stats.charts) {
        assert.ok(c.w > 100 && c.h > 50, `${c.label} has a size (${c.w}×${c.h})`);
        assert.ok(c.marks > 0, `${c.label} has marks`);
      }
    } finally {
      await context.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
