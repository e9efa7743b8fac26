import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MEMORY_LEADS_Z, suspectFeatures } from '../../src/tasks/index.js';
// MEMORY_LED_FAMILIES is not (yet) re-exported by src/tasks/index.ts
import { MEMORY_LED_FAMILIES } from '../../src/tasks/tuned/suspect.js';
import { fakeItem, fakeRanking } from '../helpers/ranking.js';

const item = (family: string, subject: string, deviation: number, pod?: string, kinds?: Record<string, number>) => ({ ...fakeItem(family, subject, deviation, kinds), ...(pod ? { pod } : {}) });

// A leak at its garbage-collection stage: memory up, CPU at the limit, its own work slow and its
// callers' calls failing; the same leak a minute earlier: memory up only.
const gcStage = (memory = 8) =>
  fakeRanking([
    {
      service: 'a',
      score: 9,
      evidence: [
        { family: 'resource', z: 9, items: [item('resource', 'container.memory.usage', memory, 'a-1'), item('resource', 'container.cpu.usage', 12, 'a-1')] },
        { family: 'self-time', z: 6, items: [item('self-time', 'op', 7)] },
        { family: 'call-outcome', z: 5, items: [item('call-outcome', 'b → a', 6, undefined, { failed: 1, complained: 0, slow: 0 })] },
        { family: 'log-template', z: 4, items: [item('log-template', 'op | appears: slow request', 5)] },
      ],
    },
  ]);

test('memory leads: a leaking pod\'s slow work and failed calls are read as its memory\'s, not as evidence of their own', () => {
  assert.deepEqual([...MEMORY_LED_FAMILIES].sort(), ['call-outcome', 'self-time']);
  const f = suspectFeatures(gcStage())!;
  assert.ok(f['lead:resource:memory'] > 0);
  const led = Object.keys(f).filter((k) => MEMORY_LED_FAMILIES.includes(k.split(':')[1]));
  assert.deepEqual(led, [], 'no self-time or call-outcome name where memory leads');
  // what is not a consequence of the pod's own slowness stays: its log lines, the memory
  assert.ok(f['rise:log-template'] > 0);
  assert.ok(f['rise:resource:memory'] > 0);
  // the early leak reads the same names (memory, its log line) — the stage no longer shows
  const early = suspectFeatures(
    fakeRanking([{ service: 'a', score: 9, evidence: [{ family: 'resource', z: 9, items: [item('resource', 'container.memory.usage', 8, 'a-1')] }, { family: 'log-template', z: 4, items: [item('log-template', 'op | appears: slow request', 5)] }] }]),
  )!;
  assert.deepEqual(Object.keys(f).sort(), Object.keys(early).sort());
});

test('memory leads: a CPU hog (memory flat) and a restarted pod (memory fell) keep their slow work and failed calls', () => {
  for (const memory of [0.5, MEMORY_LEADS_Z, -6]) {
    const f = suspectFeatures(gcStage(memory))!;
    assert.equal(f['lead:resource:memory'], undefined);
    assert.ok(f['z:self-time'] > 0 && f['rise:self-time'] > 0, `memory ${memory}`);
    assert.ok(f['z:call-outcome'] > 0 && f['rise:call-outcome:failed'] > 0, `memory ${memory}`);
    assert.ok(f['rise:resource:cpu'] > 0);
  }
});
