/**
 * Differentiable ops on 2-D tensors. Each returns a new tensor; its backward closure adds into
 * its inputs' gradients. Matrix products go through the selected kernel (engine.ts); the rest
 * is typed-array JS, one pass per op, since these are memory-bound and cheap next to the
 * products. Gradients of every op are checked against central differences in
 * test/model/ops.test.ts.
 */
import { kernel } from './engine.js';
import { accumulate, accumulateOwned, result, Tensor } from './tensor.js';
import type { ModelRng } from './rng.js';

function shapeOf(t: Tensor): string {
  return `[${t.rows}, ${t.cols}]`;
}

// ───────────────────────────── products ─────────────────────────────

/**
 * `op(A)·op(B)`, op = transpose where asked. The backward products are themselves Gemm calls
 * with transpose flags, so no transpose is materialised in either direction.
 */
export function matmul(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  const m = transA ? a.cols : a.rows;
  const k = transA ? a.rows : a.cols;
  const kb = transB ? b.cols : b.rows;
  const n = transB ? b.rows : b.cols;
  if (k !== kb) throw new RangeError(`matmul: inner sizes differ (${shapeOf(a)}${transA ? 'ᵀ' : ''} · ${shapeOf(b)}${transB ? 'ᵀ' : ''})`);
  const K = kernel();
  const out = K.gemm(a.data, b.data, m, k, n, transA, transB);
  return result(out, m, n, [a, b], (g) => {
    if (a.requiresGrad) {
      // d op(A) = G·op(B)ᵀ; stored A is op(A) or its transpose.
      const da = transA
        ? K.gemm(b.data, g, k, n, m, transB, true) // op(B)·Gᵀ  [k, m]
        : K.gemm(g, b.data, m, n, k, false, !transB); // G·op(B)ᵀ  [m, k]
      accumulateOwned(a, da);
    }
    if (b.requiresGrad) {
      // d op(B) = op(A)ᵀ·G; stored B is op(B) or its transpose.
      const db = transB
        ? K.gemm(g, a.data, n, m, k, true, transA) // Gᵀ·op(A)  [n, k]
        : K.gemm(a.data, g, k, m, n, !transA, false); // op(A)ᵀ·G  [k, n]
      accumulateOwned(b, db);
    }
  });
}

/** `x·W + b` with W [in, out] and b [1, out], fused so the bias costs no extra tensor. */
export function linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  if (x.cols !== w.rows) throw new RangeError(`linear: input ${shapeOf(x)} does not fit weight ${shapeOf(w)}`);
  if (b && (b.rows !== 1 || b.cols !== w.cols)) throw new RangeError(`linear: bias ${shapeOf(b)} does not fit weight ${shapeOf(w)}`);
  const K = kernel();
  const m = x.rows;
  const k = x.cols;
  const n = w.cols;
  const out = K.gemm(x.data, w.data, m, k, n, false, false);
  if (b) {
    const bd = b.data;
    for (let i = 0; i < m; i++) {
      const o = i * n;
      for (let j = 0; j < n; j++) out[o + j] += bd[j];
    }
  }
  const parents = b ? [x, w, b] : [x, w];
  return result(out, m, n, parents, (g) => {
    if (x.requiresGrad) accumulateOwned(x, K.gemm(g, w.data, m, n, k, false, true));
    if (w.requiresGrad) accumulateOwned(w, K.gemm(x.data, g, k, m, n, true, false));
    if (b && b.requiresGrad) accumulateOwned(b, columnSums(g, m, n));
  });
}

function columnSums(g: Float32Array, rows: number, cols: number): Float32Array {
  const acc = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) acc[j] += g[o + j];
  }
  return Float32Array.from(acc);
}

function rowSums(g: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    const o = i * cols;
    for (let j = 0; j < cols; j++) s += g[o + j];
    out[i] = s;
  }
  return out;
}

// ───────────────────────────── elementwise with broadcasting ─────────────────────────────

type Broadcast = 'same' | 'row' | 'col' | 'scalar';

/** How b ([r,c], [1,c], [r,1] or [1,1]) spreads over a [r,c]. */
function broadcastOf(a: Tensor, b: Tensor, op: string): Broadcast {
  if (b.rows === a.rows && b.cols === a.cols) return 'same';
  if (b.rows === 1 && b.cols === 1) return 'scalar';
  if (b.rows === 1 && b.cols === a.cols) return 'row';
  if (b.cols === 1 && b.rows === a.rows) return 'col';
  throw new RangeError(`${op}: ${shapeOf(b)} does not broadcast over ${shapeOf(a)}`);
}

/** Sums a full [r,c] gradient down to b's broadcast shape. */
function reduceTo(g: Float32Array, rows: number, cols: number, mode: Broadcast): Float32Array {
  switch (mode) {
    case 'same':
      return g;
    case 'row':
      return columnSums(g, rows, cols);
    case 'col':
      return rowSums(g, rows, cols);
    case 'scalar': {
      let s = 0;
      for (let i = 0; i < g.length; i++) s += g[i];
      return Float32Array.of(s);
    }
  }
}

/** Elementwise loop over a [r,c] with b broadcast; `f(x, y)` per element. */
function mapBroadcast(a: Tensor, b: Tensor, mode: Broadcast, f: (x: number, y: number) => number): Float32Array {
  const { rows, cols } = a;
  const ad = a.data;
  const bd = b.data;
  const out = new Float32Array(ad.length);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) {
      const y = mode === 'same' ? bd[o + j] : mode === 'row' ? bd[j] : mode === 'col' ? bd[i] : bd[0];
      out[o + j] = f(ad[o + j], y);
    }
  }
  return out;
}

/** a + b, b broadcast ([r,c], [1,c], [r,1] or [1,1]). */
export function add(a: Tensor, b: Tensor): Tensor {
  const mode = broadcastOf(a, b, 'add');
  const out = mapBroadcast(a, b, mode, (x, y) => x + y);
  return result(out, a.rows, a.cols, [a, b], (g) => {
    accumulate(a, g);
    if (b.requiresGrad) accumulate(b, reduceTo(g, a.rows, a.cols, mode));
  });
}

/** a − b, b broadcast. */
export function sub(a: Tensor, b: Tensor): Tensor {
  const mode = broadcastOf(a, b, 'sub');
  const out = mapBroadcast(a, b, mode, (x, y) => x - y);
  return result(out, a.rows, a.cols, [a, b], (g) => {
    accumulate(a, g);
    if (b.requiresGrad) {
      const r = reduceTo(g, a.rows, a.cols, mode);
      const neg = new Float32Array(r.length);
      for (let i = 0; i < r.length; i++) neg[i] = -r[i];
      accumulateOwned(b, neg);
    }
  });
}

/** a ⊙ b, b broadcast (a [B,1] column scales each row: the gating product). */
export function mul(a: Tensor, b: Tensor): Tensor {
  const mode = broadcastOf(a, b, 'mul');
  const out = mapBroadcast(a, b, mode, (x, y) => x * y);
  return result(out, a.rows, a.cols, [a, b], (g) => {
    if (a.requiresGrad) accumulateOwned(a, mapBroadcast(new Tensor(g, a.rows, a.cols), b, mode, (x, y) => x * y));
    if (b.requiresGrad) {
      const ga = new Float32Array(g.length);
      const ad = a.data;
      for (let i = 0; i < g.length; i++) ga[i] = g[i] * ad[i];
      accumulate(b, reduceTo(ga, a.rows, a.cols, mode));
    }
  });
}

/** a / b, b broadcast. The caller keeps b away from 0. */
export function div(a: Tensor, b: Tensor): Tensor {
  const mode = broadcastOf(a, b, 'div');
  const out = mapBroadcast(a, b, mode, (x, y) => x / y);
  return result(out, a.rows, a.cols, [a, b], (g) => {
    if (a.requiresGrad) accumulateOwned(a, mapBroadcast(new Tensor(g, a.rows, a.cols), b, mode, (x, y) => x / y));
    if (b.requiresGrad) {
      // d(a/b)/db = −a/b² = −out/b
      const q = mapBroadcast(new Tensor(out, a.rows, a.cols), b, mode, (x, y) => -x / y);
      for (let i = 0; i < q.length; i++) q[i] *= g[i];
      accumulate(b, reduceTo(q, a.rows, a.cols, mode));
    }
  });
}

/** s·a for a constant s. */
export function scale(a: Tensor, s: number): Tensor {
  const ad = a.data;
  const out = new Float32Array(ad.length);
  for (let i = 0; i < ad.length; i++) out[i] = ad[i] * s;
  return result(out, a.rows, a.cols, [a], (g) => {
    const ga = new Float32Array(g.length);
    for (let i = 0; i < g.length; i++) ga[i] = g[i] * s;
    accumulateOwned(a, ga);
  });
}

/** a + s for a constant s. */
export function addScalar(a: Tensor, s: number): Tensor {
  const ad = a.data;
  const out = new Float32Array(ad.length);
  for (let i = 0; i < ad.length; i++) out[i] = ad[i] + s;
  return result(out, a.rows, a.cols, [a], (g) => accumulate(a, g));
}

// ───────────────────────────── activations ─────────────────────────────

export function relu(a: Tensor): Tensor {
  const ad = a.data;
  const out = new Float32Array(ad.length);
  for (let i = 0; i < ad.length; i++) out[i] = ad[i] > 0 ? ad[i] : 0;
  return result(out, a.rows, a.cols, [a], (g) => {
    const ga = new Float32Array(g.length);
    for (let i = 0; i < g.length; i++) ga[i] = ad[i] > 0 ? g[i] : 0;
    accumulateOwned(a, ga);
  });
}

/** max(0, a − margin): the hinge of the temporal and anomaly losses. */
export function hinge(a: Tensor, margin = 0): Tensor {
  const ad = a.data;
  const out = new Float32Array(ad.length);
  for (let i = 0; i < ad.length; i++) out[i] = ad[i] > margin ? ad[i] - margin : 0;
  return result(out, a.rows, a.cols, [a], (g) => {
    const ga = new Float32Array(g.length);
    for (let i = 0; i < g.length; i++) ga[i] = ad[i] > margin ? g[i] : 0;
    accumulateOwned(a, ga);
  });
}

const GELU_C = Math.sqrt(2 / Math.PI);

/** GELU, tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function gelu(a: Tensor): Tensor {
  const ad = a.data;
  const out = new Float32Array(ad.length);
  const th = new Float32Array(ad.length);
  for (let i = 0; i < ad.length; i++) {
    const x = ad[i];
    const t = Math.tanh(GELU_C * (x + 0.044715 * x * x * x));
    th[i] = t;
    out[i] = 0.5 * x * (1 + t);
  }
  return result(out, a.rows, a.cols, [a], (g) => {
    const ga = new Float32Array(g.length);
    for (let i = 0; i < g.length; i++) {
      const x = ad[i];
      const t = th[i];
      const d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * x * x);
      ga[i] = g[i] * d;
    }
    accumulateOwned(a, ga);
  });
}

export function sigmoid(a: Tensor): Tensor {
  const ad = a.data;
  const out = new Float32Array(ad.length);
  for (let i = 0; i < ad.length; i++) {
    const x = ad[i];
    // Two branches so exp never overflows.
    if (x >= 0) out[i] = 1 / (1 + Math.exp(-x));
    else {
      const e = Math.exp(x);
      out[i] = e / (1 + e);
    }
  }
  return result(out, a.rows, a.cols, [a], (g) => {
    const ga = new Float32Array(g.length);
    for (let i = 0; i < g.length; i++) ga[i] = g[i] * out[i] * (1 - out[i]);
    accumulateOwned(a, ga);
  });
}

export type Activation = 'relu' | 'gelu';

export function activate(a: Tensor, kind: Activation): Tensor {
  return kind === 'gelu' ? gelu(a) : relu(a);
}

/**
 * Inverted dropout: each value kept with probability 1 − p and scaled by 1/(1 − p), so the
 * expectation is unchanged and inference needs no rescaling. The mask comes from `rng`.
 */
export function dropout(a: Tensor, p: number, rng: ModelRng): Tensor {
  if (!(p >= 0 && p < 1)) throw new RangeError(`dropout: p must be in [0, 1), got ${p}`);
  if (p === 0) return a;
  const keep = 1 / (1 - p);
  const ad = a.data;
  const mask = new Float32Array(ad.length);
  const out = new Float32Array(ad.length);
  for (let i = 0; i < ad.length; i++) {
    mask[i] = rng.float() >= p ? keep : 0;
    out[i] = ad[i] * mask[i];
  }
  return result(out, a.rows, a.cols, [a], (g) => {
    const ga = new Float32Array(g.length);
    for (let i = 0; i < g.length; i++) ga[i] = g[i] * mask[i];
    accumulateOwned(a, ga);
  });
}

// ───────────────────────────── rows ─────────────────────────────

/** Each row divided by √(‖row‖² + eps): unit rows, smooth at 0. */
export function l2NormalizeRows(a: Tensor, eps = 1e-12): Tensor {
  const { rows, cols } = a;
  const ad = a.data;
  const out = new Float32Array(ad.length);
  const inv = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    let ss = 0;
    for (let j = 0; j < cols; j++) ss += ad[o + j] * ad[o + j];
    const r = 1 / Math.sqrt(ss + eps);
    inv[i] = r;
    for (let j = 0; j < cols; j++) out[o + j] = ad[o + j] * r;
  }
  return result(out, rows, cols, [a], (g) => {
    // dx = (g − y·(y·g)) / n
    const ga = new Float32Array(g.length);
    for (let i = 0; i < rows; i++) {
      const o = i * cols;
      let yg = 0;
      for (let j = 0; j < cols; j++) yg += out[o + j] * g[o + j];
      const r = inv[i];
      for (let j = 0; j < cols; j++) ga[o + j] = (g[o + j] - out[o + j] * yg) * r;
    }
    accumulateOwned(a, ga);
  });
}

/** Row-wise dot products of two same-shape tensors: [r, 1]. */
export function rowDot(a: Tensor, b: Tensor): Tensor {
  if (a.rows !== b.rows || a.cols !== b.cols) throw new RangeError(`rowDot: shapes differ ${shapeOf(a)} vs ${shapeOf(b)}`);
  const { rows, cols } = a;
  const ad = a.data;
  const bd = b.data;
  const out = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    const o = i * cols;
    for (let j = 0; j < cols; j++) s += ad[o + j] * bd[o + j];
    out[i] = s;
  }
  return result(out, rows, 1, [a, b], (g) => {
    if (a.requiresGrad) {
      const ga = new Float32Array(ad.length);
      for (let i = 0; i < rows; i++) for (let j = 0, o = i * cols; j < cols; j++) ga[o + j] = g[i] * bd[o + j];
      accumulateOwned(a, ga);
    }
    if (b.requiresGrad) {
      const gb = new Float32Array(bd.length);
      for (let i = 0; i < rows; i++) for (let j = 0, o = i * cols; j < cols; j++) gb[o + j] = g[i] * ad[o + j];
      accumulateOwned(b, gb);
    }
  });
}

/** Sum of each row: [r, 1]. */
export function rowSum(a: Tensor): Tensor {
  const { rows, cols } = a;
  const out = rowSums(a.data, rows, cols);
  return result(out, rows, 1, [a], (g) => {
    const ga = new Float32Array(a.data.length);
    for (let i = 0; i < rows; i++) ga.fill(g[i], i * cols, (i + 1) * cols);
    accumulateOwned(a, ga);
  });
}

export function transpose(a: Tensor): Tensor {
  const { rows, cols } = a;
  const ad = a.data;
  const out = new Float32Array(ad.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = ad[i * cols + j];
  return result(out, cols, rows, [a], (g) => {
    const ga = new Float32Array(g.length);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) ga[i * cols + j] = g[j * rows + i];
    accumulateOwned(a, ga);
  });
}

/** Columns side by side (same row count). */
export function concatCols(parts: Tensor[]): Tensor {
  if (parts.length === 0) throw new RangeError('concatCols: nothing to concatenate');
  const rows = parts[0].rows;
  let cols = 0;
  for (const p of parts) {
    if (p.rows !== rows) throw new RangeError(`concatCols: row counts differ (${rows} vs ${p.rows})`);
    cols += p.cols;
  }
  const out = new Float32Array(rows * cols);
  let off = 0;
  for (const p of parts) {
    const pd = p.data;
    for (let i = 0; i < rows; i++) out.set(pd.subarray(i * p.cols, (i + 1) * p.cols), i * cols + off);
    off += p.cols;
  }
  return result(out, rows, cols, parts, (g) => {
    let o = 0;
    for (const p of parts) {
      if (p.requiresGrad) {
        const gp = new Float32Array(p.data.length);
        for (let i = 0; i < rows; i++) gp.set(g.subarray(i * cols + o, i * cols + o + p.cols), i * p.cols);
        accumulateOwned(p, gp);
      }
      o += p.cols;
    }
  });
}

/** Columns [start, end). */
export function sliceCols(a: Tensor, start: number, end: number): Tensor {
  if (!(start >= 0 && end <= a.cols && start <= end)) throw new RangeError(`sliceCols: [${start}, ${end}) outside ${shapeOf(a)}`);
  const { rows, cols } = a;
  const w = end - start;
  const out = new Float32Array(rows * w);
  for (let i = 0; i < rows; i++) out.set(a.data.subarray(i * cols + start, i * cols + end), i * w);
  return result(out, rows, w, [a], (g) => {
    const ga = new Float32Array(a.data.length);
    for (let i = 0; i < rows; i++) ga.set(g.subarray(i * w, (i + 1) * w), i * cols + start);
    accumulateOwned(a, ga);
  });
}

/** Rows `idx` of a, in that order (masked row selection: idx = the present rows). */
export function gatherRows(a: Tensor, idx: Int32Array): Tensor {
  const { rows, cols } = a;
  const out = new Float32Array(idx.length * cols);
  for (let r = 0; r < idx.length; r++) {
    const i = idx[r];
    if (!(i >= 0 && i < rows)) throw new RangeError(`gatherRows: row ${i} outside ${shapeOf(a)}`);
    out.set(a.data.subarray(i * cols, (i + 1) * cols), r * cols);
  }
  return result(out, idx.length, cols, [a], (g) => {
    const ga = new Float32Array(a.data.length);
    for (let r = 0; r < idx.length; r++) {
      const o = idx[r] * cols;
      for (let j = 0; j < cols; j++) ga[o + j] += g[r * cols + j];
    }
    accumulateOwned(a, ga);
  });
}

/**
 * A [rows, cols] tensor of zeros with row `idx[r]` set to (added from) row r of a: the adjoint
 * of gatherRows. Rows not in idx are exactly 0 and carry no gradient anywhere.
 */
export function scatterRows(a: Tensor, idx: Int32Array, rows: number): Tensor {
  if (idx.length !== a.rows) throw new RangeError(`scatterRows: ${idx.length} indices for ${a.rows} rows`);
  const cols = a.cols;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < idx.length; r++) {
    const i = idx[r];
    if (!(i >= 0 && i < rows)) throw new RangeError(`scatterRows: row ${i} outside [0, ${rows})`);
    const o = i * cols;
    for (let j = 0; j < cols; j++) out[o + j] += a.data[r * cols + j];
  }
  return result(out, rows, cols, [a], (g) => {
    const ga = new Float32Array(a.data.length);
    for (let r = 0; r < idx.length; r++) ga.set(g.subarray(idx[r] * cols, (idx[r] + 1) * cols), r * cols);
    accumulateOwned(a, ga);
  });
}

/** Entries a[i[p], j[p]] as a [P, 1] column (picking pairs out of a Gram matrix). */
export function gatherEntries(a: Tensor, i: Int32Array, j: Int32Array): Tensor {
  if (i.length !== j.length) throw new RangeError(`gatherEntries: ${i.length} row and ${j.length} column indices`);
  const { rows, cols } = a;
  const out = new Float32Array(i.length);
  for (let p = 0; p < i.length; p++) {
    if (!(i[p] >= 0 && i[p] < rows && j[p] >= 0 && j[p] < cols)) throw new RangeError(`gatherEntries: (${i[p]}, ${j[p]}) outside ${shapeOf(a)}`);
    out[p] = a.data[i[p] * cols + j[p]];
  }
  return result(out, i.length, 1, [a], (g) => {
    const ga = new Float32Array(a.data.length);
    for (let p = 0; p < i.length; p++) ga[i[p] * cols + j[p]] += g[p];
    accumulateOwned(a, ga);
  });
}

// ───────────────────────────── softmax and cross-entropy ─────────────────────────────

/** Row-wise log-softmax. */
export function logSoftmaxRows(a: Tensor): Tensor {
  const { rows, cols } = a;
  const ad = a.data;
  const out = new Float32Array(ad.length);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    let mx = -Infinity;
    for (let j = 0; j < cols; j++) if (ad[o + j] > mx) mx = ad[o + j];
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(ad[o + j] - mx);
    const lse = mx + Math.log(s);
    for (let j = 0; j < cols; j++) out[o + j] = ad[o + j] - lse;
  }
  return result(out, rows, cols, [a], (g) => {
    // dx = g − softmax·Σ_j g
    const ga = new Float32Array(g.length);
    for (let i = 0; i < rows; i++) {
      const o = i * cols;
      let gs = 0;
      for (let j = 0; j < cols; j++) gs += g[o + j];
      for (let j = 0; j < cols; j++) ga[o + j] = g[o + j] - Math.exp(out[o + j]) * gs;
    }
    accumulateOwned(a, ga);
  });
}

/**
 * Mean over rows of −log softmax(logits)[i, targets[i]]: [1, 1]. Fused (one pass, one
 * softmax kept for the backward) since InfoNCE calls it twice per modality pair.
 */
export function crossEntropy(logits: Tensor, targets: Int32Array): Tensor {
  const { rows, cols } = logits;
  if (targets.length !== rows) throw new RangeError(`crossEntropy: ${targets.length} targets for ${rows} rows`);
  const ld = logits.data;
  const prob = new Float32Array(ld.length);
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    const t = targets[i];
    if (!(t >= 0 && t < cols)) throw new RangeError(`crossEntropy: target ${t} outside [0, ${cols})`);
    let mx = -Infinity;
    for (let j = 0; j < cols; j++) if (ld[o + j] > mx) mx = ld[o + j];
    let s = 0;
    for (let j = 0; j < cols; j++) {
      const e = Math.exp(ld[o + j] - mx);
      prob[o + j] = e;
      s += e;
    }
    for (let j = 0; j < cols; j++) prob[o + j] /= s;
    total += mx + Math.log(s) - ld[o + t];
  }
  const n = Math.max(rows, 1);
  return result(Float32Array.of(total / n), 1, 1, [logits], (g) => {
    const gs = g[0] / n;
    const ga = new Float32Array(ld.length);
    for (let i = 0; i < rows; i++) {
      const o = i * cols;
      for (let j = 0; j < cols; j++) ga[o + j] = prob[o + j] * gs;
      ga[o + targets[i]] -= gs;
    }
    accumulateOwned(logits, ga);
  });
}

/** crossEntropy with row i's target at column i (InfoNCE: the positive is on the diagonal). */
export function crossEntropyDiag(logits: Tensor): Tensor {
  if (logits.rows > logits.cols) throw new RangeError(`crossEntropyDiag: ${shapeOf(logits)} has rows without a diagonal`);
  const t = new Int32Array(logits.rows);
  for (let i = 0; i < t.length; i++) t[i] = i;
  return crossEntropy(logits, t);
}

// ───────────────────────────── reductions ─────────────────────────────

export function sum(a: Tensor): Tensor {
  let s = 0;
  const ad = a.data;
  for (let i = 0; i < ad.length; i++) s += ad[i];
  return result(Float32Array.of(s), 1, 1, [a], (g) => {
    accumulateOwned(a, new Float32Array(ad.length).fill(g[0]));
  });
}

export function mean(a: Tensor): Tensor {
  const n = a.data.length;
  if (n === 0) throw new RangeError('mean of an empty tensor');
  return scale(sum(a), 1 / n);
}

/**
 * Σ_i w_i·a_i over all values, w constant (same length as a): weighted sums and means (pass
 * normalised weights), and the random projections the gradient checks use.
 */
export function weightedSum(a: Tensor, w: ArrayLike<number>): Tensor {
  const ad = a.data;
  if (w.length !== ad.length) throw new RangeError(`weightedSum: ${w.length} weights for ${ad.length} values`);
  let s = 0;
  for (let i = 0; i < ad.length; i++) s += w[i] * ad[i];
  return result(Float32Array.of(s), 1, 1, [a], (g) => {
    const ga = new Float32Array(ad.length);
    for (let i = 0; i < ad.length; i++) ga[i] = g[0] * w[i];
    accumulateOwned(a, ga);
  });
}
