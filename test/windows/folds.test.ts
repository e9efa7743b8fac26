import { test } from 'node:test';
import assert from 'node:assert/strict';
import { burstGroups, dealGroups, failureGroupOf, foldOf, foldOfWindow, makeFolds, type FoldItem } from '../../src/windows/index.js';
import { SeededRng } from '../../src/telemetry/index.js';

const MIN = 60_000;

test('failure group rule: the source group wins, else the case id without its window number', () => {
  assert.equal(failureGroupOf({ caseId: 'cloudbed1_12_3' }), 'cloudbed1_12');
  assert.equal(failureGroupOf({ caseId: 'cloudbed1_12_3', group: 'g' }), 'g');
  assert.equal(failureGroupOf({ window: { caseId: 'x_7' } }), 'x');
  assert.equal(failureGroupOf({ caseId: 'plain' }), 'plain');
});

test('injection bursts: faults within 60 min of the previous share a group (transitively)', () => {
  const items: FoldItem[] = [0, 30, 80, 200, 250, 400].map((t, i) => ({ id: `f${i}`, start: t * MIN }));
  const g = burstGroups(items);
  assert.equal(g.get('f0'), g.get('f1'));
  assert.equal(g.get('f1'), g.get('f2')); // 50 min after f1
  assert.notEqual(g.get('f2'), g.get('f3')); // 120 min gap
  assert.equal(g.get('f3'), g.get('f4'));
  assert.notEqual(g.get('f4'), g.get('f5'));
  assert.equal(new Set(g.values()).size, 3);
});

test('injection bursts with keys: a new root-cause service starts a new burst even within the gap', () => {
  const items: FoldItem[] = [
    ['a', 0], ['a', 9], ['a', 18], ['b', 27], ['b', 36], ['a', 45], ['c', 200],
  ].map(([k, t], i) => ({ id: `f${i}`, start: (t as number) * MIN, key: k as string }));
  const g = burstGroups(items);
  assert.equal(g.get('f0'), g.get('f2'));
  assert.notEqual(g.get('f2'), g.get('f3'));
  assert.equal(g.get('f3'), g.get('f4'));
  assert.notEqual(g.get('f4'), g.get('f5'), 'a again after b is a new burst');
  assert.equal(new Set(g.values()).size, 4);
});

test('grouped folds never split a group, are seeded, and balance the sizes', () => {
  const rng = new SeededRng(5, 'test');
  const items: FoldItem[] = [];
  for (let i = 0; i < 120; i++) items.push({ id: `c${i}`, start: i * MIN, group: `g${rng.int(30)}` });
  const a = makeFolds('failure', items, { k: 5, seed: 1 });
  const b = makeFolds('failure', items, { k: 5, seed: 1 });
  const c = makeFolds('failure', items, { k: 5, seed: 2 });
  const foldsOfGroup = new Map<string, Set<number>>();
  for (const it of items) {
    const f = foldOf(a, it.id)!;
    assert.ok(f >= 0 && f < 5);
    let s = foldsOfGroup.get(it.group!);
    if (!s) foldsOfGroup.set(it.group!, (s = new Set()));
    s.add(f);
    assert.equal(foldOf(b, it.id), f, 'same seed, same folds');
  }
  for (const [g, s] of foldsOfGroup) assert.equal(s.size, 1, `group ${g} split over folds ${[...s]}`);
  assert.ok(items.some((it) => foldOf(c, it.id) !== foldOf(a, it.id)), 'another seed deals differently');
  const sizes = [0, 1, 2, 3, 4].map((f) => items.filter((it) => foldOf(a, it.id) === f).length);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 12, `balanced: ${sizes}`);
  assert.throws(() => dealGroups(new Map([['a', 'g']]), 1, 0), RangeError);
});

test('windows follow their burst; a window touching two folds is in none', () => {
  const items: FoldItem[] = [0, 200, 400, 600, 800, 1000].map((t, i) => ({ id: `f${i}`, start: t * MIN, end: (t + 3) * MIN }));
  const folds = makeFolds('injection-burst', items, { k: 3, seed: 4 });
  for (const it of items) {
    const w = { start: it.start - 2 * MIN, end: it.start + 3 * MIN };
    assert.equal(foldOfWindow(folds, w, 5 * MIN), foldOf(folds, it.id));
  }
  // a window spanning two bursts in different folds
  const fa = foldOf(folds, 'f0');
  const other = items.find((it) => foldOf(folds, it.id) !== fa)!;
  const span = { start: items[0].start, end: other.start + MIN };
  assert.equal(foldOfWindow(folds, span, 0), undefined);
});

test('injection bursts that chain into one group are cut at their k − 1 widest gaps; two or more bursts stand', async () => {
  const { burstGroupsForFolds } = await import('../../src/windows/index.js');
  // a fault every 20–40 min all day: one burst by time alone
  const starts = [0, 25, 50, 90, 115, 140, 175, 200, 230, 255];
  const items: FoldItem[] = starts.map((t, i) => ({ id: `f${i}`, start: t * MIN }));
  assert.equal(new Set(burstGroups(items).values()).size, 1);
  const { groupOf, cuts } = burstGroupsForFolds(items, 3);
  assert.equal(cuts, 2);
  // the widest gaps are 50→90 (40 min) and 140→175 (35 min)
  const groups = starts.map((_, i) => groupOf.get(`f${i}`));
  assert.deepEqual(groups, ['burst-f0', 'burst-f0', 'burst-f0', 'burst-f3', 'burst-f3', 'burst-f3', 'burst-f6', 'burst-f6', 'burst-f6', 'burst-f6']);
  const folds = makeFolds('injection-burst', items, { k: 3, seed: 0 });
  assert.equal(folds.burstCuts, 2);
  assert.equal(new Set(items.map((it) => foldOf(folds, it.id))).size, 3, 'three folds hold faults');
  // two bursts (two days): left as they are, no cut
  const twoDays: FoldItem[] = [0, 20, 40, 1440, 1460].map((t, i) => ({ id: `d${i}`, start: t * MIN }));
  const kept = burstGroupsForFolds(twoDays, 5);
  assert.equal(kept.cuts, 0);
  assert.deepEqual(kept.groupOf, burstGroups(twoDays));
  assert.equal(makeFolds('injection-burst', twoDays, { k: 5 }).burstCuts, undefined);
});
