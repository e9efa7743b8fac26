/**
 * Layers: Linear (weight [in, out], bias [1, out]) with seeded He or Xavier init, and a
 * two-layer MLP. Each layer draws its init from its own named stream of the model seed, so
 * adding or resizing one layer leaves every other layer's initial weights unchanged.
 */
import { ModelRng, ops, Tensor, type Activation, type Param } from './engine/index.js';

export type InitScheme = 'he' | 'xavier';

export class Linear {
  readonly weight: Tensor;
  readonly bias: Tensor;

  /**
   * He (normal, std √(2/in)) for layers feeding a ReLU/GELU, which halves the variance;
   * Xavier (uniform ±√(6/(in+out))) for the rest, which keeps it in both directions.
   */
  constructor(
    readonly name: string,
    readonly inDim: number,
    readonly outDim: number,
    rng: ModelRng,
    init: InitScheme = 'he',
  ) {
    if (!(Number.isInteger(inDim) && inDim > 0 && Number.isInteger(outDim) && outDim > 0)) {
      throw new RangeError(`${name}: layer sizes must be positive integers, got ${inDim}→${outDim}`);
    }
    const r = rng.derive(name);
    const w = new Float32Array(inDim * outDim);
    if (init === 'he') {
      const std = Math.sqrt(2 / inDim);
      for (let i = 0; i < w.length; i++) w[i] = r.normal() * std;
    } else {
      const a = Math.sqrt(6 / (inDim + outDim));
      for (let i = 0; i < w.length; i++) w[i] = (2 * r.float() - 1) * a;
    }
    this.weight = new Tensor(w, inDim, outDim, true);
    this.bias = Tensor.zeros(1, outDim, true);
    this.weight.name = `${name}.weight`;
    this.bias.name = `${name}.bias`;
  }

  forward(x: Tensor): Tensor {
    return ops.linear(x, this.weight, this.bias);
  }

  params(): Param[] {
    return [
      { name: `${this.name}.weight`, tensor: this.weight, decay: true },
      { name: `${this.name}.bias`, tensor: this.bias, decay: false },
    ];
  }
}

export interface MLPOptions {
  activation?: Activation;
  /** Dropout after the hidden activation, training only. Default 0. */
  dropout?: number;
}

/** in → hidden → act → (dropout) → out. */
export class MLP {
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly activation: Activation;
  readonly dropout: number;

  constructor(
    readonly name: string,
    inDim: number,
    hidden: number,
    outDim: number,
    rng: ModelRng,
    options: MLPOptions = {},
  ) {
    this.activation = options.activation ?? 'relu';
    this.dropout = options.dropout ?? 0;
    this.fc1 = new Linear(`${name}.fc1`, inDim, hidden, rng, 'he');
    this.fc2 = new Linear(`${name}.fc2`, hidden, outDim, rng, 'xavier');
  }

  /** `dropoutRng` given = training mode (dropout active when configured). */
  forward(x: Tensor, dropoutRng?: ModelRng): Tensor {
    let h = ops.activate(this.fc1.forward(x), this.activation);
    if (dropoutRng && this.dropout > 0) h = ops.dropout(h, this.dropout, dropoutRng);
    return this.fc2.forward(h);
  }

  params(): Param[] {
    return [...this.fc1.params(), ...this.fc2.params()];
  }
}
