/**
 * The autograd tensor: a row-major [rows, cols] Float32Array (everything here is 2-D; a scalar
 * is [1, 1]) with an optional gradient. Ops (ops.ts) record, on each result that depends on a
 * tensor needing a gradient, its parents and a closure that pushes the result's gradient back
 * into them; `backward()` runs those closures in reverse topological order. No global tape, so
 * graphs never leak between steps: a graph is garbage once its loss is.
 */

let gradEnabled = true;

/** Runs `fn` without recording any graph (inference, evaluation, finite differences). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

export class Tensor {
  grad: Float32Array | null = null;
  /** Set on results of ops; leaves (parameters, inputs) have none. */
  parents: readonly Tensor[] = [];
  backwardFn: ((grad: Float32Array) => void) | null = null;
  name?: string;

  constructor(
    readonly data: Float32Array,
    readonly rows: number,
    readonly cols: number,
    public requiresGrad = false,
  ) {
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
      throw new RangeError(`bad tensor shape [${rows}, ${cols}]`);
    }
    if (data.length !== rows * cols) {
      throw new RangeError(`tensor data has ${data.length} values, shape [${rows}, ${cols}] needs ${rows * cols}`);
    }
  }

  static zeros(rows: number, cols: number, requiresGrad = false): Tensor {
    return new Tensor(new Float32Array(rows * cols), rows, cols, requiresGrad);
  }

  static from(values: ArrayLike<number>, rows: number, cols: number, requiresGrad = false): Tensor {
    return new Tensor(Float32Array.from(values), rows, cols, requiresGrad);
  }

  static scalar(value: number, requiresGrad = false): Tensor {
    return new Tensor(Float32Array.of(value), 1, 1, requiresGrad);
  }

  get size(): number {
    return this.data.length;
  }

  get shape(): [number, number] {
    return [this.rows, this.cols];
  }

  /** The value of a [1, 1] tensor. */
  item(): number {
    if (this.data.length !== 1) throw new RangeError(`item() needs a [1, 1] tensor, this is [${this.rows}, ${this.cols}]`);
    return this.data[0];
  }

  get(i: number, j: number): number {
    return this.data[i * this.cols + j];
  }

  /** The gradient buffer, allocated (zeros) on first use. */
  ensureGrad(): Float32Array {
    if (!this.grad) this.grad = new Float32Array(this.data.length);
    return this.grad;
  }

  zeroGrad(): void {
    if (this.grad) this.grad.fill(0);
  }

  /** A leaf copy with no graph attached. */
  detach(): Tensor {
    return new Tensor(this.data, this.rows, this.cols, false);
  }

  /**
   * Back-propagates from this [1, 1] tensor (seed gradient 1), accumulating into the `grad` of
   * every tensor that requires one. The graph is released afterwards unless `retainGraph`.
   */
  backward(retainGraph = false): void {
    if (this.data.length !== 1) throw new RangeError('backward() starts from a [1, 1] loss');
    if (!this.requiresGrad) throw new Error('backward(): the loss does not depend on any tensor that requires a gradient');
    const order = topoOrder(this);
    this.ensureGrad()[0] += 1;
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      if (t.backwardFn && t.grad) t.backwardFn(t.grad);
    }
    if (!retainGraph) {
      for (const t of order) {
        if (t.backwardFn) {
          t.backwardFn = null;
          t.parents = [];
          // An intermediate's gradient is of no use once its parents have theirs.
          if (t !== this) t.grad = null;
        }
      }
    }
  }
}

/** Parents before children, over the nodes that require a gradient (iterative DFS). */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: Array<[Tensor, number]> = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, next] = top;
    if (next < t.parents.length) {
      top[1]++;
      const p = t.parents[next];
      if (p.requiresGrad && !seen.has(p)) {
        seen.add(p);
        stack.push([p, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

/**
 * Wraps an op's output. When grad mode is on and a parent needs a gradient, the result records
 * `backward`, which receives the result's gradient and must add into the parents' gradients.
 */
export function result(data: Float32Array, rows: number, cols: number, parents: Tensor[], backward: (grad: Float32Array) => void): Tensor {
  const out = new Tensor(data, rows, cols, false);
  if (gradEnabled && parents.some((p) => p.requiresGrad)) {
    out.requiresGrad = true;
    out.parents = parents;
    out.backwardFn = backward;
  }
  return out;
}

/** Adds `g` into `t.grad` when `t` needs a gradient. */
export function accumulate(t: Tensor, g: Float32Array): void {
  if (!t.requiresGrad) return;
  if (!t.grad) {
    t.grad = g.slice();
    return;
  }
  const dst = t.grad;
  for (let i = 0; i < dst.length; i++) dst[i] += g[i];
}

/**
 * Like accumulate, but `g` is a fresh array nobody else holds, so a first gradient is adopted
 * instead of copied.
 */
export function accumulateOwned(t: Tensor, g: Float32Array): void {
  if (!t.requiresGrad) return;
  if (!t.grad) {
    t.grad = g;
    return;
  }
  const dst = t.grad;
  for (let i = 0; i < dst.length; i++) dst[i] += g[i];
}
