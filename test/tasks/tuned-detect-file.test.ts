import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVIDENCE_VERSION } from '../../src/encode/index.js';
import { EvidenceByWindow, evidenceDetectionLayout, evidenceRowsIn } from '../../src/eval/index.js';
import { alignEvidence, detectorCandidateName, EVIDENCE_ALIGN_MIN, fitTasks, TasksFile, type TasksFileJSON } from '../../src/tasks/index.js';
import { UserError, type Dataset } from '../../src/telemetry/index.js';
import { robustScale } from '../../src/stats/index.js';
import { detectionRows } from '../../src/cli/tune.js';
import { cliWith } from '../helpers/cli.js';
import { encodedSim, TEST_SPEC } from '../helpers/sim-setup.js';

const cli = cliWith({ timeout: 400_000 });

interface DetectJson {
  detector: string;
  windows: { start: string; end: string; alarm: boolean; score: number | null; feature?: string }[];
  againstLabels: { faults: number; caught: number };
}

/** Alarm shares of the windows that overlap a fault and of those that do not. */
function alarmShares(out: DetectJson, ds: Dataset): { fault: number; normal: number } {
  const hit = (w: DetectJson['windows'][number]) => ds.labels.some((f) => Date.parse(w.start) < f.end && f.start < Date.parse(w.end));
  const share = (ws: DetectJson['windows']) => ws.filter((w) => w.alarm).length / Math.max(1, ws.length);
  return { fault: share(out.windows.filter(hit)), normal: share(out.windows.filter((w) => !hit(w))) };
}

test('tasks file with an evidence detector: saved, applied by `detect` to the new data\'s evidence rows, alarms on faults; version 2 refused', { timeout: 600_000 }, async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'rs-tuned-detect-'));
  try {
    const ev = new EvidenceByWindow();
    const { ds, windows, backbone } = await encodedSim(tmp, { entities: true, onEvidence: ev.add });
    const det = detectionRows(windows, backbone.dim, []);
    const layout = evidenceDetectionLayout(windows, (w) => ev.of(w), []);
    assert.ok(layout.services.length >= 3 && layout.features.some((f) => f.startsWith('edge_')), `layout ${JSON.stringify(layout)}`);
    const evRows = evidenceRowsIn(layout, det.map((d) => d.w), (w) => ev.of(w));
    det.forEach((d, i) => {
      if (evRows[i]) d.evidence = evRows[i];
    });
    // a cross-validation that prefers the evidence: the file must keep that detector
    const candidates = [
      { family: 'robust-z' as const, states: false, f1: 0.5 },
      { family: 'knn' as const, states: false, f1: 0.4 },
      { family: 'robust-z' as const, states: false, input: 'evidence' as const, f1: 0.9 },
      { family: 'knn' as const, states: false, input: 'evidence' as const, f1: 0.9 },
    ];
    const tasks = fitTasks({
      detection: det,
      mask: [],
      faults: ds.labels.map((f) => ({ start: f.start, end: f.end })),
      settleMs: 0,
      cases: [],
      evidenceLayout: { evidenceVersion: EVIDENCE_VERSION, ...layout },
      crossValidation: { folds: 4, candidates },
      fittedOn: { data: join(tmp, 'sim'), format: ds.format, backbone: `hash:dim=${backbone.dim}`, windows: windows.length, normalWindows: det.filter((d) => !d.abnormal).length, faults: ds.labels.length, cases: 0 },
      window: TEST_SPEC,
      localization: { method: 'evidence', windowMs: 300_000, sliceMs: 60_000, note: 'test' },
    });
    const d = tasks.doc.detection;
    // the first of the tied best
    assert.equal(d.input, 'evidence');
    assert.equal(d.family, 'robust-z');
    assert.equal(d.useStates, false);
    assert.ok(d.evidence?.robustZ && !d.evidence.knn, 'only the chosen family is saved');
    assert.deepEqual(d.evidence.services, layout.services);
    assert.equal(d.evidence.evidenceVersion, EVIDENCE_VERSION);
    assert.deepEqual(d.crossValidation?.candidates.map((c) => c.candidate), candidates.map(detectorCandidateName));
    assert.equal(tasks.evidenceColumns()?.length, layout.services.length * layout.features.length);

    // in process: a window without an evidence row is not alarmed; the features detector on request
    const noEvidence = tasks.detect(det.map((x) => ({ ...x, evidence: undefined })));
    assert.ok(noEvidence.every((a) => !a.alarm && Number.isNaN(a.score)));
    const inProcess = tasks.detect(det);
    assert.ok(inProcess.some((a) => a.alarm));

    const path = join(tmp, 'tasks.json');
    await tasks.save(path);
    const loaded = await TasksFile.load(path);
    assert.deepEqual(loaded.detect(det).map((a) => a.alarm), inProcess.map((a) => a.alarm), 'the saved detector is the fitted one');

    // `detect` encodes the new data's evidence and applies the saved detector
    const r = cli('detect', '--data', join(tmp, 'sim'), '--tasks', path, '--json');
    assert.equal(r.code, 0, r.err);
    const out = JSON.parse(r.out) as DetectJson;
    assert.equal(out.detector, 'evidence:robust-z');
    assert.ok(out.windows.some((w) => w.alarm && w.feature && layout.services.some((s) => w.feature!.startsWith(`${s}.`))), 'an alarm names the service column that set it');
    const sh = alarmShares(out, ds);
    assert.ok(sh.fault > sh.normal, `fault windows alarm more (${sh.fault.toFixed(2)}) than normal ones (${sh.normal.toFixed(2)})`);
    assert.ok(out.againstLabels.caught > 0);
    const on = cli('detect', '--data', join(tmp, 'sim'), '--tasks', path, '--states', 'on');
    assert.equal(on.code, 1);
    assert.match(on.err, /evidence rows, which have no states/);

    // the previous version is refused in one line
    const doc = JSON.parse(await readFile(path, 'utf8')) as TasksFileJSON;
    await writeFile(path, JSON.stringify({ ...doc, schemaVersion: 2 }));
    await assert.rejects(TasksFile.load(path), (e: unknown) => e instanceof UserError && /schemaVersion 2 is not supported/.test(e.message) && !e.message.includes('\n'));
    const v2 = cli('detect', '--data', join(tmp, 'sim'), '--tasks', path);
    assert.equal(v2.code, 1);
    assert.match(v2.err, /schemaVersion 2 is not supported .*run `runtimeslicer tune` again/);

    // tune --detector auto → detect: tune compares the evidence candidates with the features' by cross-validation and keeps the best
    const t = cli('tune', '--data', join(tmp, 'sim'), '--out', path, '--detector', 'auto');
    assert.equal(t.code, 0, t.err);
    const tuned = JSON.parse(await readFile(path, 'utf8')) as TasksFileJSON;
    const cv = tuned.detection.crossValidation?.candidates ?? [];
    assert.ok(cv.some((c) => c.candidate === 'evidence:robust-z') && cv.some((c) => c.candidate === 'evidence:knn'), `candidates ${JSON.stringify(cv)}`);
    const best = cv.reduce((b, c) => ((c.f1 ?? -1) > (b.f1 ?? -1) ? c : b));
    assert.equal(`${tuned.detection.input === 'evidence' ? 'evidence:' : ''}${tuned.detection.family}${tuned.detection.useStates ? '+states' : ''}${tuned.detection.rise ? '+rise' : ''}`, best.candidate, 'the saved detector is the cross-validation\'s best');
    assert.equal(tuned.detection.evidence !== null, tuned.detection.input === 'evidence');
    const r2 = cli('detect', '--data', join(tmp, 'sim'), '--tasks', path, '--json');
    assert.equal(r2.code, 0, r2.err);
    const out2 = JSON.parse(r2.out) as DetectJson;
    assert.equal(out2.detector, best.candidate);
    const sh2 = alarmShares(out2, ds);
    assert.ok(sh2.fault > sh2.normal, `fault windows alarm more (${sh2.fault.toFixed(2)}) than normal ones (${sh2.normal.toFixed(2)})`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test('evidence rows of new data are moved into the tuning data\'s frame by per-column medians (identity on the tuning data)', () => {
  const n = EVIDENCE_ALIGN_MIN + 10;
  const tuning = Array.from({ length: n }, (_, i) => Float64Array.of(-0.12 + 0.001 * (i % 7), i % 5, NaN));
  const center = [quantileOf(tuning.map((r) => r[0])), quantileOf(tuning.map((r) => r[1])), null];
  const same = alignEvidence(tuning, center);
  same.forEach((r, i) => assert.deepEqual(Array.from(r!).slice(0, 2), Array.from(tuning[i]).slice(0, 2)));
  // a new run whose first column sits 0.35 lower (encode's references fitted on it), a window without evidence, a fault
  const fresh: (Float64Array | undefined)[] = tuning.map((r) => Float64Array.of(r[0] - 0.35, r[1], NaN));
  fresh.push(undefined, Float64Array.of(2, 9, NaN));
  const a = alignEvidence(fresh, center);
  assert.ok(Math.abs(a[0]![0] - tuning[0][0]) < 0.005, 'shifted back (up to the fault row moving the median by a rank)');
  assert.equal(a[n], undefined);
  assert.ok(Math.abs(a[n + 1]![0] - (2 + 0.35)) < 0.005 && a[n + 1]![1] === 9, 'a fault keeps its distance from the centre');
  assert.ok(Number.isNaN(a[0]![2]));
  // with the spreads: a run whose second column swings ten times wider is brought back to the tuning spread
  const spread = [0.01, 1.5, null];
  const wide = tuning.map((r) => Float64Array.of(r[0], 10 * (r[1] - 2) + 2, NaN));
  const w = alignEvidence(wide, center, spread);
  const after = robustScale(w.map((r) => r![1])).scale;
  assert.ok(Math.abs(after - 1.5) < 1e-9, `spread → ${after}`);
  assert.ok(Math.abs(quantileOf(w.map((r) => r![1])) - center[1]!) < 1e-9, 'median kept at the centre');
  // too few values to estimate a median: left as it is
  const short = alignEvidence(fresh.slice(0, 5), center);
  assert.equal(short[0]![0], fresh[0]![0]);
});

function quantileOf(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
