/**
 * A fitted partition of windows into runtime states: the standardiser, the clustering (k-means
 * centroids or the diagonal mixture) and how k was chosen, fitted once and then used to assign
 * new windows. Saved as one versioned JSON document, written atomically (temporary file in the
 * same folder, then rename) so a reader never sees half a partition.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../sources/io/index.js';
import { UserError } from '../telemetry/index.js';
import { chooseK, type ClusterMethod, type KScore } from './choose-k.js';
import { argmax, fitGmm, gmmResponsibilities, type GmmFit, type GmmParams } from './gmm.js';
import { fitKMeans, nearestCentroid, type KMeansFit } from './kmeans.js';
import { Standardizer, type StandardizerJSON } from './scale.js';

/** Bumped when a field of the saved partition changes meaning. */
export const STATES_FORMAT_VERSION = 1;
export const STATES_FORMAT = 'runtimeslicer-states';

export interface FitStatesOptions {
  method?: ClusterMethod;
  /** Number of states; chosen over kMin..kMax (silhouette for k-means, BIC for the mixture) when absent. */
  k?: number;
  kMin?: number;
  kMax?: number;
  seed?: number;
  /** Free-form description of what the rows are (model, mask, features), kept in the file. */
  meta?: Record<string, unknown>;
}

export interface StatePartitionJSON {
  format: typeof STATES_FORMAT;
  version: number;
  method: ClusterMethod;
  k: number;
  chosenBy: 'given' | 'silhouette' | 'bic';
  scores: KScore[];
  seed: number;
  scaler: StandardizerJSON;
  /** Training rows per state. */
  sizes: number[];
  centroids?: number[][];
  gmm?: GmmParams;
  meta: Record<string, unknown>;
}

export interface StateAssignment {
  states: number[];
  /** Mixture only: the posterior probability of every state, per row. */
  responsibilities?: number[][];
}

export class StatePartition {
  private constructor(
    private readonly doc: StatePartitionJSON,
    private readonly scaler: Standardizer,
    /** State of every training row (fit only; empty after load). */
    readonly labels: number[],
  ) {}

  get k(): number {
    return this.doc.k;
  }
  get method(): ClusterMethod {
    return this.doc.method;
  }
  get chosenBy(): StatePartitionJSON['chosenBy'] {
    return this.doc.chosenBy;
  }
  get scores(): readonly KScore[] {
    return this.doc.scores;
  }
  get dim(): number {
    return this.scaler.dim;
  }
  get meta(): Record<string, unknown> {
    return this.doc.meta;
  }

  static fit(rows: readonly ArrayLike<number>[], opts: FitStatesOptions = {}): StatePartition {
    const method = opts.method ?? 'kmeans';
    const seed = opts.seed ?? 0;
    if (rows.length < 2) throw new UserError(`cannot find states in ${rows.length} window(s): need at least 2`);
    if (opts.k !== undefined && opts.k > rows.length) throw new UserError(`--k ${opts.k} is more than the ${rows.length} windows`);
    const scaler = Standardizer.fit(rows);
    const x = scaler.apply(rows);
    let fit: KMeansFit | GmmFit;
    let chosenBy: StatePartitionJSON['chosenBy'] = 'given';
    let scores: KScore[] = [];
    if (opts.k !== undefined) {
      fit = method === 'kmeans' ? fitKMeans(x, opts.k, { seed }) : fitGmm(x, opts.k, { seed });
    } else {
      const c = chooseK(x, { method, seed, kMin: opts.kMin, kMax: opts.kMax });
      fit = c.fit;
      chosenBy = c.criterion;
      scores = c.scores;
    }
    // State ids by size, largest first, so "state 0" means the same kind of thing across runs.
    const k = fit.k;
    const sizes = new Array<number>(k).fill(0);
    for (const l of fit.labels) sizes[l]++;
    const order = [...sizes.keys()].sort((a, b) => sizes[b] - sizes[a] || a - b);
    const rank = new Array<number>(k);
    order.forEach((old, i) => (rank[old] = i));
    const labels = fit.labels.map((l) => rank[l]);
    const doc: StatePartitionJSON = {
      format: STATES_FORMAT,
      version: STATES_FORMAT_VERSION,
      method,
      k,
      chosenBy,
      scores,
      seed,
      scaler: scaler.toJSON(),
      sizes: order.map((o) => sizes[o]),
      meta: opts.meta ?? {},
    };
    if ('centroids' in fit) doc.centroids = order.map((o) => fit.centroids[o]);
    else doc.gmm = { weights: order.map((o) => fit.weights[o]), means: order.map((o) => fit.means[o]), variances: order.map((o) => fit.variances[o]) };
    return new StatePartition(doc, scaler, labels);
  }

  assign(rows: readonly ArrayLike<number>[]): StateAssignment {
    const x = this.scaler.apply(rows);
    if (this.doc.centroids) {
      const c = this.doc.centroids;
      return { states: x.map((r) => nearestCentroid(r, c).index) };
    }
    const { resp } = gmmResponsibilities(this.doc.gmm!, x);
    return { states: resp.map((r) => argmax(r)), responsibilities: resp };
  }

  toJSON(): StatePartitionJSON {
    return this.doc;
  }

  static fromJSON(j: unknown, where = 'states file'): StatePartition {
    const d = j as Partial<StatePartitionJSON> | null;
    if (!d || d.format !== STATES_FORMAT) throw new UserError(`${where}: not a RuntimeSlicer states file`);
    if (d.version !== STATES_FORMAT_VERSION) throw new UserError(`${where}: states format version ${d.version}, this RuntimeSlicer reads version ${STATES_FORMAT_VERSION}; fit the states again`);
    const k = d.k;
    const okRows = (m: unknown) => Array.isArray(m) && m.length === k && m.every((r) => Array.isArray(r) && r.length === d.scaler?.mean.length && r.every(Number.isFinite));
    let scaler: Standardizer;
    try {
      scaler = Standardizer.fromJSON(d.scaler as StandardizerJSON);
    } catch {
      throw new UserError(`${where}: malformed scaler`);
    }
    const valid =
      Number.isInteger(k) &&
      (k as number) >= 1 &&
      (d.method === 'kmeans' ? okRows(d.centroids) : d.method === 'gmm' && !!d.gmm && okRows(d.gmm.means) && okRows(d.gmm.variances) && Array.isArray(d.gmm.weights) && d.gmm.weights.length === k);
    if (!valid) throw new UserError(`${where}: malformed ${d.method ?? 'clustering'} parameters`);
    return new StatePartition({ ...(d as StatePartitionJSON), meta: d.meta ?? {}, scores: d.scores ?? [] }, scaler, []);
  }

  async save(path: string): Promise<void> {
    await writeFileAtomic(path, JSON.stringify(this.doc) + '\n');
  }

  static async load(path: string): Promise<StatePartition> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw new UserError(`cannot read states file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    let j: unknown;
    try {
      j = JSON.parse(text);
    } catch {
      throw new UserError(`${path}: not valid JSON`);
    }
    return StatePartition.fromJSON(j, path);
  }
}
