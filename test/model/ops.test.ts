import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelRng, ops, Tensor } from '../../src/model/engine/index.js';
import { awayFromZero, ENGINES, gradCheck, param, project, useEngine } from './helpers.js';

type Case = { name: string; run: (rng: ModelRng) => void };

const cases: Case[] = [
  ...(
    [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ] as const
  ).map(
    ([ta, tb]): Case => ({
      name: `matmul transA=${ta} transB=${tb}`,
      run: (rng) => {
        const [m, k, n] = [5, 7, 3];
        const a = param(rng, ta ? k : m, ta ? m : k);
        const b = param(rng, tb ? n : k, tb ? k : n);
        gradCheck(() => project(ops.matmul(a, b, ta, tb)), [a, b]);
      },
    }),
  ),
  {
    name: 'matmul of a tensor with itself (A·Aᵀ, gradients from both sides add)',
    run: (rng) => {
      const a = param(rng, 4, 6);
      gradCheck(() => project(ops.matmul(a, a, false, true)), [a]);
    },
  },
  {
    name: 'linear (fused bias)',
    run: (rng) => {
      const x = param(rng, 6, 5);
      const w = param(rng, 5, 4);
      const b = param(rng, 1, 4);
      gradCheck(() => project(ops.linear(x, w, b)), [x, w, b]);
      gradCheck(() => project(ops.linear(x, w)), [x, w]);
    },
  },
  ...(['same', 'row', 'col', 'scalar'] as const).flatMap((mode): Case[] => {
    const bShape = (r: number, c: number): [number, number] => (mode === 'same' ? [r, c] : mode === 'row' ? [1, c] : mode === 'col' ? [r, 1] : [1, 1]);
    return (['add', 'sub', 'mul', 'div'] as const).map(
      (op): Case => ({
        name: `${op} with b broadcast as ${mode}`,
        run: (rng) => {
          const a = param(rng, 4, 3);
          const [br, bc] = bShape(4, 3);
          // Divisors kept well away from 0.
          const b = op === 'div' ? awayFromZero(rng, br, bc, 0.7) : param(rng, br, bc);
          gradCheck(() => project(ops[op](a, b)), [a, b]);
        },
      }),
    );
  }),
  {
    name: 'scale, addScalar',
    run: (rng) => {
      const a = param(rng, 3, 4);
      gradCheck(() => project(ops.scale(a, -2.5)), [a]);
      gradCheck(() => project(ops.addScalar(a, 0.7)), [a]);
    },
  },
  {
    name: 'relu (inputs off the kink)',
    run: (rng) => {
      const a = awayFromZero(rng, 4, 5);
      gradCheck(() => project(ops.relu(a)), [a]);
    },
  },
  {
    name: 'hinge max(0, x − margin)',
    run: (rng) => {
      const a = awayFromZero(rng, 4, 5);
      gradCheck(() => project(ops.hinge(a)), [a]);
      const b = new Tensor(Float32Array.from([-1, 0.1, 0.6, 2, 0.2, 0.9]), 2, 3, true);
      gradCheck(() => project(ops.hinge(b, 0.4)), [b]);
    },
  },
  {
    name: 'gelu, sigmoid',
    run: (rng) => {
      const a = param(rng, 4, 5, 2);
      gradCheck(() => project(ops.gelu(a)), [a]);
      gradCheck(() => project(ops.sigmoid(a)), [a]);
    },
  },
  {
    name: 'dropout (seeded mask)',
    run: (rng) => {
      const a = param(rng, 6, 5);
      gradCheck(() => project(ops.dropout(a, 0.3, new ModelRng(5, 'mask'))), [a]);
    },
  },
  {
    name: 'l2NormalizeRows',
    run: (rng) => {
      const a = param(rng, 4, 6);
      gradCheck(() => project(ops.l2NormalizeRows(a)), [a]);
    },
  },
  {
    name: 'rowDot, rowSum, transpose',
    run: (rng) => {
      const a = param(rng, 4, 5);
      const b = param(rng, 4, 5);
      gradCheck(() => project(ops.rowDot(a, b)), [a, b]);
      gradCheck(() => project(ops.rowDot(a, a)), [a]);
      gradCheck(() => project(ops.rowSum(a)), [a]);
      gradCheck(() => project(ops.transpose(a)), [a]);
    },
  },
  {
    name: 'concatCols, sliceCols',
    run: (rng) => {
      const a = param(rng, 3, 2);
      const b = param(rng, 3, 4);
      const c = param(rng, 3, 1);
      gradCheck(() => project(ops.concatCols([a, b, c, a])), [a, b, c]);
      gradCheck(() => project(ops.sliceCols(b, 1, 3)), [b]);
    },
  },
  {
    name: 'gatherRows (repeated rows), scatterRows, gatherEntries',
    run: (rng) => {
      const a = param(rng, 5, 3);
      gradCheck(() => project(ops.gatherRows(a, Int32Array.from([4, 0, 4, 2]))), [a]);
      const c = param(rng, 3, 4);
      gradCheck(() => project(ops.scatterRows(c, Int32Array.from([5, 1, 3]), 7)), [c]);
      gradCheck(() => project(ops.gatherEntries(a, Int32Array.from([0, 4, 4]), Int32Array.from([2, 1, 1]))), [a]);
    },
  },
  {
    name: 'logSoftmaxRows, crossEntropy, crossEntropyDiag',
    run: (rng) => {
      const a = param(rng, 4, 5, 2);
      gradCheck(() => project(ops.logSoftmaxRows(a)), [a]);
      gradCheck(() => ops.crossEntropy(a, Int32Array.from([4, 0, 2, 2])), [a]);
      const sq = param(rng, 4, 4, 2);
      gradCheck(() => ops.crossEntropyDiag(sq), [sq]);
    },
  },
  {
    name: 'sum, mean, weightedSum',
    run: (rng) => {
      const a = param(rng, 3, 4);
      gradCheck(() => ops.sum(ops.mul(a, a)), [a]);
      gradCheck(() => ops.mean(ops.mul(a, a)), [a]);
      gradCheck(() => ops.weightedSum(ops.mul(a, a), Float32Array.from({ length: 12 }, (_, i) => i / 12)), [a]);
    },
  },
  {
    name: 'a composite graph reusing intermediates (gradients accumulate across branches)',
    run: (rng) => {
      const x = param(rng, 4, 6);
      const w = param(rng, 6, 5, 0.5);
      const h = ops.gelu(ops.linear(x, w));
      const f = () => {
        const h2 = ops.gelu(ops.linear(x, w));
        return ops.sum(ops.mul(ops.l2NormalizeRows(h2), ops.sigmoid(h2)));
      };
      assert.equal(h.rows, 4);
      gradCheck(f, [x, w]);
    },
  },
];

for (const eng of ENGINES) {
  for (const c of cases) {
    test(`[${eng.name}] ${c.name}: gradient matches central differences`, { skip: eng.skip }, () => {
      useEngine(eng);
      c.run(new ModelRng(1234, c.name));
    });
  }
}

test('forward values of the ops match hand computations', () => {
  const a = Tensor.from([1, 2, 3, 4, 5, 6], 2, 3);
  const b = Tensor.from([1, 0, 0, 1, 1, 1], 3, 2);
  assert.deepEqual(Array.from(ops.matmul(a, b).data), [4, 5, 10, 11]);
  assert.deepEqual(Array.from(ops.matmul(a, a, false, true).data), [14, 32, 32, 77]);
  assert.deepEqual(Array.from(ops.matmul(a, a, true, false).data), [17, 22, 27, 22, 29, 36, 27, 36, 45]);
  assert.deepEqual(Array.from(ops.add(a, Tensor.from([10, 20], 2, 1)).data), [11, 12, 13, 24, 25, 26]);
  assert.deepEqual(Array.from(ops.sliceCols(a, 1, 3).data), [2, 3, 5, 6]);
  assert.deepEqual(Array.from(ops.concatCols([a, Tensor.from([7, 8], 2, 1)]).data), [1, 2, 3, 7, 4, 5, 6, 8]);
  assert.deepEqual(Array.from(ops.scatterRows(Tensor.from([1, 2], 1, 2), Int32Array.of(2), 3).data), [0, 0, 0, 0, 1, 2]);
  const n = ops.l2NormalizeRows(Tensor.from([3, 4, 0, 0], 2, 2));
  assert.deepEqual(Array.from(n.data), [0.6000000238418579, 0.800000011920929, 0, 0]);
  const ce = ops.crossEntropyDiag(Tensor.from([0, 0, 0, 0], 2, 2)).item();
  assert.ok(Math.abs(ce - Math.log(2)) < 1e-6);
  const ls = ops.logSoftmaxRows(Tensor.from([1, 2, 3], 1, 3));
  const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
  assert.ok(Math.abs(ls.data[2] - (3 - lse)) < 1e-6);
  assert.equal(ops.sigmoid(Tensor.from([-1000, 0, 1000], 1, 3)).data.join(','), '0,0.5,1');
  assert.ok(Math.abs(ops.gelu(Tensor.scalar(1)).item() - 0.8411920071) < 1e-6);
});

test('shape errors are reported, not silently broadcast', () => {
  const a = Tensor.zeros(2, 3);
  assert.throws(() => ops.matmul(a, a), /inner sizes differ/);
  assert.throws(() => ops.add(a, Tensor.zeros(3, 2)), /does not broadcast/);
  assert.throws(() => ops.gatherRows(a, Int32Array.of(2)), /outside/);
  assert.throws(() => ops.crossEntropyDiag(Tensor.zeros(3, 2)), /without a diagonal/);
});

test('backward frees the graph, keeps leaf gradients, and accumulates across calls', () => {
  const rng = new ModelRng(3);
  const w = param(rng, 3, 2);
  const x = new Tensor(Float32Array.from([1, 2, 3]), 1, 3);
  const y = ops.sum(ops.matmul(x, w));
  y.backward();
  assert.deepEqual(Array.from(w.grad!), [1, 1, 2, 2, 3, 3]);
  assert.equal(y.parents.length, 0);
  ops.sum(ops.matmul(x, w)).backward();
  assert.deepEqual(Array.from(w.grad!), [2, 2, 4, 4, 6, 6]);
  assert.equal(x.grad, null, 'a tensor that needs no gradient gets none');
  assert.throws(() => ops.sum(x).backward(), /does not depend/);
});
