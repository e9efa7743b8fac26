import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinearRanker, PRIOR_FEATURE, RANKER_LOSS, RANKER_VERSION, type RankCandidate, type RankerCase, type RankerJSON } from '../../src/tasks/index.js';
import { tunedLocalize } from '../../src/eval/evaluate/tuned-localize.js';
import type { CaseRanking } from '../../src/eval/evaluate/run.js';
import type { EvalCase } from '../../src/eval/evaluate/setup.js';
import { seededRandom } from '../helpers/rng.js';

const rng = seededRandom;

/**
 * Cases of a system where family `good` is reliable testimony (the root cause has z ≈ 4, others
 * ≈ 0) and family `noisy` is not (a random bystander has z ≈ 6 half the time): the label-free
 * score, the max over families, then names the bystander. Candidates are in label-free order.
 */
function makeCases(n: number, seed: number, group = (i: number) => i % 5): RankerCase[] {
  const r = rng(seed);
  const services = ['s0', 's1', 's2', 's3', 's4', 's5'];
  return Array.from({ length: n }, (_, i) => {
    const root = services[Math.floor(r() * services.length)];
    const loud = r() < 0.5 ? services.filter((s) => s !== root)[Math.floor(r() * 5)] : undefined;
    const cands = services.map((s) => {
      const good = (s === root ? 4 : 0) + r() * 0.5;
      const noisy = (s === loud ? 6 : 0) + r() * 0.5;
      return { service: s, good, noisy, score: Math.max(good, noisy) };
    });
    cands.sort((a, b) => b.score - a.score);
    const candidates: RankCandidate[] = cands.map((c, k) => ({
      service: c.service,
      features: { [PRIOR_FEATURE]: Math.asinh(c.score), 'reciprocal-rank': 1 / (k + 1), 'z:good': Math.asinh(c.good), 'z:noisy': Math.asinh(c.noisy) },
    }));
    return { candidates, truth: root, group: group(i) };
  });
}

const top1 = (cases: readonly RankerCase[], rank: (c: RankerCase) => string) => cases.filter((c) => rank(c) === c.truth).length / cases.length;

test('the ranker learns which family is reliable testimony, from training cases only', () => {
  const train = makeCases(60, 1);
  const held = makeCases(200, 2);
  const labelFree = top1(held, (c) => c.candidates[0].service);
  const ranker = LinearRanker.fit(train);
  const tuned = top1(held, (c) => ranker.rank(c.candidates)[0]);
  assert.ok(labelFree < 0.75, `the decoy must fool the label-free order (${labelFree})`);
  assert.ok(tuned > 0.95, `tuned top-1 ${tuned} (label-free ${labelFree})`);
  const w = ranker.toJSON();
  const weight = (f: string) => w.global[w.features.indexOf(f)];
  assert.ok(weight('z:good') > weight('z:noisy'), `good ${weight('z:good')} noisy ${weight('z:noisy')}`);
  // λ was chosen by cross-validation over the groups, every candidate measured, the evidence
  // ranking's own held-out MRR beside them (and beaten)
  assert.equal(w.crossValidation.length, 6);
  assert.ok(w.crossValidation.every((x) => x.mrr !== null));
  assert.equal(w.crossValidation[5].lambda, null);
  assert.notEqual(w.lambda, null);
  assert.ok(Math.max(...w.crossValidation.slice(0, 5).map((x) => x.mrr as number)) > (w.crossValidation[5].mrr as number));
});

test('where the label-free top is always right, the ranker keeps it first', () => {
  // every case's root cause is the label-free top: the fit can only confirm the prior
  const cases = makeCases(40, 3).map((c) => ({ ...c, truth: c.candidates[0].service }));
  const ranker = LinearRanker.fit(cases);
  for (const c of makeCases(50, 4)) assert.equal(ranker.rank(c.candidates)[0], c.candidates[0].service);
});

test('with a single group there is no cross-validation: the evidence ranking is kept', () => {
  const cases = makeCases(30, 12, () => 0);
  const ranker = LinearRanker.fit(cases, { lambdas: [1, 30] });
  const j = ranker.toJSON();
  assert.equal(j.lambda, null);
  assert.ok(j.crossValidation.every((x) => x.mrr === null));
  for (const c of cases) assert.deepEqual(ranker.rank(c.candidates).slice(0, 1), c.candidates.slice(0, 1).map((x) => x.service));
});

test('where no λ beats the evidence ranking on held-out groups, the ranker is that ranking', () => {
  // the root cause is the label-free top in every case, but features carry no extra signal
  const cases = makeCases(40, 13).map((c) => ({ ...c, truth: c.candidates[0].service }));
  const j = LinearRanker.fit(cases).toJSON();
  assert.equal(j.lambda, null);
  assert.deepEqual(j.global, j.features.map((f) => (f === PRIOR_FEATURE ? 1 : 0)));
  assert.ok(j.states.every((w) => w === null));
});

test('a case whose root cause no candidate names is left out of the fit', () => {
  const cases = makeCases(30, 5);
  const ghost = { ...cases[0], truth: 'not-a-candidate' };
  const a = LinearRanker.fit(cases.slice(1)).toJSON();
  const b = LinearRanker.fit([ghost, ...cases.slice(1)]).toJSON();
  assert.equal(b.cases, a.cases);
  assert.deepEqual(b.global, a.global);
});

test('per-state weights: a state with many cases gets its own, a rare one stays near the global', () => {
  // state 1: `noisy` is the reliable family there (its decoy is `good`); 150 cases. State 2: 2 cases.
  const base = makeCases(150, 6).map((c) => ({ ...c, state: 0 }));
  const flipped = makeCases(150, 7).map((c) => ({
    ...c,
    state: 1,
    candidates: c.candidates.map((x) => ({ ...x, features: { ...x.features, 'z:good': x.features['z:noisy'], 'z:noisy': x.features['z:good'] } })),
  }));
  const rare = makeCases(2, 8).map((c) => ({ ...c, state: 2 }));
  const j = LinearRanker.fit([...base, ...flipped, ...rare]).toJSON();
  const at = (w: number[] | null, f: string) => (w ?? j.global)[j.features.indexOf(f)];
  assert.ok(at(j.states[0], 'z:good') > at(j.states[0], 'z:noisy'));
  assert.ok(at(j.states[1], 'z:noisy') > at(j.states[1], 'z:good'), `state 1: noisy ${at(j.states[1], 'z:noisy')} good ${at(j.states[1], 'z:good')}`);
  const dist = (w: number[] | null) => Math.hypot(...(w ?? j.global).map((v, i) => v - j.global[i]));
  assert.ok(dist(j.states[2]) < 0.25 * dist(j.states[1]), `rare ${dist(j.states[2])} vs large ${dist(j.states[1])}`);
});

test('the model file round-trips and another version is refused', () => {
  const ranker = LinearRanker.fit(makeCases(30, 9));
  const again = LinearRanker.fromJSON(JSON.parse(JSON.stringify(ranker.toJSON())));
  for (const c of makeCases(20, 10)) assert.deepEqual(again.rank(c.candidates), ranker.rank(c.candidates));
  assert.throws(() => LinearRanker.fromJSON({ ...ranker.toJSON(), version: RANKER_VERSION + 1 }), /version/);
});

test('both losses learn the reliable family; new fits are pairwise with one-sided z and say so', () => {
  const train = makeCases(60, 1);
  const held = makeCases(200, 2);
  for (const loss of ['pairwise', 'conditional-logit'] as const) {
    const ranker = LinearRanker.fit(train, { loss });
    const j = ranker.toJSON();
    assert.equal(j.loss, loss);
    const weight = (f: string) => j.global[j.features.indexOf(f)];
    assert.ok(weight('z:good') > weight('z:noisy'), `${loss}: good ${weight('z:good')} noisy ${weight('z:noisy')}`);
    assert.ok(top1(held, (c) => ranker.rank(c.candidates)[0]) > 0.95, loss);
    // held-out log-likelihoods are per case and finite for every fitted λ
    assert.ok(j.crossValidation.filter((x) => x.lambda !== null).every((x) => x.logLik !== null && x.logLik < 0 && Number.isFinite(x.logLik)));
  }
  const d = LinearRanker.fit(train).toJSON();
  assert.equal(RANKER_LOSS, 'pairwise');
  assert.equal(d.loss, 'pairwise');
  assert.equal(d.clip, true);
  assert.equal(d.version, RANKER_VERSION);
});

test('a z below its null is not testimony: with a negative weight it lifts no candidate', () => {
  const train = makeCases(60, 1);
  const pair = (z: number): RankCandidate[] => [
    { service: 'quiet', features: { [PRIOR_FEATURE]: 1, 'reciprocal-rank': 1, 'z:good': 1, 'z:noisy': 0 } },
    { service: 'below', features: { [PRIOR_FEATURE]: 1, 'reciprocal-rank': 1, 'z:good': 1, 'z:noisy': z } },
  ];
  const clipped = LinearRanker.fit(train);
  const signed = LinearRanker.fit(train, { clip: false });
  const w = signed.toJSON();
  assert.ok(w.global[w.features.indexOf('z:noisy')] < 0, 'the decoy family must get a negative weight for this test');
  // signed: 'below' gains from being quieter than usual; clipped: a tie, the listed order stands
  assert.deepEqual(signed.rank(pair(-3)), ['below', 'quiet']);
  assert.deepEqual(clipped.rank(pair(-3)), ['quiet', 'below']);
  // a positive z is still read as it is (the decoy family's weight is negative under the clip too)
  assert.deepEqual(clipped.rank(pair(3)), ['quiet', 'below']);
});

test('a version-1 file (conditional logit over signed z, before loss/clip were saved) still loads and ranks as fitted', () => {
  const v1 = LinearRanker.fit(makeCases(40, 14), { loss: 'conditional-logit', clip: false });
  const { loss: _loss, clip: _clip, ...rest } = v1.toJSON();
  const old: RankerJSON = JSON.parse(JSON.stringify({ ...rest, version: 1 }));
  assert.equal('clip' in old, false);
  const loaded = LinearRanker.fromJSON(old);
  // candidates with negative z's: a version-1 file keeps them signed
  const cases = makeCases(30, 15).map((c) => ({ ...c, candidates: c.candidates.map((x) => ({ ...x, features: { ...x.features, 'z:noisy': x.features['z:noisy'] - 2 } })) }));
  for (const c of cases) assert.deepEqual(loaded.rank(c.candidates), v1.rank(c.candidates));
});

test("evaluate's tuned localization never reads a test case's root cause", () => {
  const cases = makeCases(50, 11);
  const evidence = new Map<string, CaseRanking>();
  const evalCases = cases.map((c, i) => {
    const id = `case${i}`;
    evidence.set(id, { services: c.candidates.map((x) => x.service), pods: [], candidates: c.candidates });
    return { id, service: c.truth, fold: i % 5 } as unknown as EvalCase;
  });
  const train = evalCases.filter((c) => c.fold !== 0);
  const test0 = evalCases.filter((c) => c.fold === 0);
  const a = tunedLocalize(train, test0, evidence);
  const b = tunedLocalize(train, test0.map((c) => ({ ...c, service: 'changed' })), evidence);
  assert.equal(a.rankings.size, test0.length);
  assert.deepEqual([...b.rankings], [...a.rankings]);
  // and it ranks better than the label-free order on the held-out fold
  const hit = (m: typeof a.rankings) => test0.filter((c) => m.get(c.id)?.services[0] === c.service).length;
  const labelFree = test0.filter((c) => evidence.get(c.id)?.services[0] === c.service).length;
  assert.ok(hit(a.rankings) > labelFree, `tuned ${hit(a.rankings)} label-free ${labelFree} of ${test0.length}`);
});
