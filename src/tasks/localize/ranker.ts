/**
 * The tuned localizer (issue 12, deliverable 2): a light ranker over the label-free evidence,
 * fitted on labelled training cases. The evidence localizer calibrates every family against
 * normal data and takes the strongest; it cannot know that, on a given system, one family's z of
 * 6 is weaker testimony than another's z of 3 (an idle pod's CPU blip against a template that
 * vanished). A linear score w·x_i over the case's candidate services i learns exactly that
 * from the faults a system has had; version 1 fitted it as a conditional logit,
 *
 *   P(root = i | case) = exp(w·x_i) / Σ_j exp(w·x_j),
 *
 * with x_i = asinh of the candidate's label-free score, its per-family z's, its label-free
 * reciprocal rank and whether its evidence was capped as inherited (`rankFeatures`). Since
 * version 2 the loss is pairwise by default (RankNet: Σ over the case's (root, other) pairs of
 * log(1 + exp(−w·(x_root − x_other))), averaged per case) and a family's z enters by its
 * positive part only (`clip`): see "Loss and features" below. The fit
 * minimises the loss plus λ/2·‖w − w₀‖², where w₀ puts weight 1 on the
 * label-free score and 0 elsewhere: with few cases the ranker *is* the evidence ranking, and
 * data moves it only as far as the cases support. λ is chosen by cross-validation over the
 * training cases' own groups (held-out MRR, the evidence ranking's own among the candidates),
 * never on test cases; where no λ beats the evidence ranking the ranker is that ranking (λ = ∞,
 * saved as null).
 *
 * States: one weight vector per runtime state, fitted with the same penalty pulling it toward
 * the global weights, scaled by n0/n — a state with few cases stays the global ranker
 * (the shrinkage rule of the other tuned tasks, docs/tasks.md). Written by hand: the model is
 * a dozen weights fitted by Newton's method; no maintained npm package fits either loss.
 *
 * Loss and features (version 2, docs/localize.md "Pairwise loss and one-sided z"): the
 * conditional logit spends its few cases on the candidates that beat the root cause, so with
 * 36 cases a handful of misses set the weights (Nezha: self time −0.9, which then sinks every
 * root cause that also shows a little self time); the pairwise loss counts every (root, other)
 * pair of a case alike, so the cases the evidence already ranks right weigh as much as the
 * misses. A z below 0 is a signal *below* its null, not testimony of a fault: with a negative
 * weight on a family it would lift a candidate for being quieter than usual, so only its
 * positive part enters. Version-1 files (conditional logit, signed z) rank as they were fitted.
 */
import type { Ranking } from './localizer.js';
import type { EventRanking } from './events.js';

export const RANKER_VERSION = 2;
/** saved forms `fromJSON` reads: 1 = conditional logit over signed z's (no `loss`/`clip` fields) */
export const RANKER_VERSIONS: readonly number[] = [1, 2];
/** the loss of a new fit */
export const RANKER_LOSS: RankerLoss = 'pairwise';
export type RankerLoss = 'conditional-logit' | 'pairwise';
/** the candidate-independent prior: the label-free score's feature */
export const PRIOR_FEATURE = 'score';
/** λ candidates, tried by cross-validation over the training groups */
export const RANKER_LAMBDAS: readonly number[] = [0.3, 1, 3, 10, 30];
/** a state's own weights count as much as the global ones after this many cases of it */
export const RANKER_STATE_N0 = 20;
/** candidates per case the ranker looks at (the label-free ranking's head) */
export const RANKER_CANDIDATES = 15;

/** One candidate root cause of a case and its features (names → values; absent = 0). */
export interface RankCandidate {
  service: string;
  features: Record<string, number>;
}

export interface RankerCase {
  candidates: RankCandidate[];
  /** the true root-cause service (training cases) */
  truth?: string;
  /** runtime state of the case (default 0) */
  state?: number;
  /** cross-validation group (e.g. the evaluation fold); cases without one form one group */
  group?: number;
}

export interface RankerJSON {
  /** the tag of a saved linear ranker since version 1 (kept for every loss, so old readers refuse by version) */
  kind: 'conditional-logit';
  version: number;
  /** the fitted loss (version 2; absent: version 1, 'conditional-logit') */
  loss?: RankerLoss;
  /** per-family z's enter by their positive part (version 2; absent: version 1, signed) */
  clip?: boolean;
  features: string[];
  /** the chosen λ; null: none beat the evidence ranking on held-out groups, the weights are w₀ */
  lambda: number | null;
  n0: number;
  global: number[];
  /** per state: weights, or null where the state had no training case (the global weights) */
  states: (number[] | null)[];
  /** per λ candidate (null: the evidence ranking itself): held-out MRR and log-likelihood per case (of the fitted loss: pairwise, the mean over a case's pairs; null: not measured) */
  crossValidation: { lambda: number | null; mrr: number | null; logLik: number | null }[];
  cases: number;
}

const t = (v: number) => (Number.isFinite(v) ? Math.asinh(v) : 0);

/**
 * The candidates of a label-free ranking, at most RANKER_CANDIDATES, with their features. Grid
 * rankings (`Ranking`): per family the candidate's calibrated z; event rankings (AIOps 2022):
 * per family the IDF-weighted event sum. Both: the label-free score and reciprocal rank.
 */
export function rankFeatures(r: Ranking | EventRanking): RankCandidate[] {
  return r.services.slice(0, RANKER_CANDIDATES).map((s, i) => {
    const f: Record<string, number> = { [PRIOR_FEATURE]: t(s.score), 'reciprocal-rank': 1 / (i + 1) };
    if ('evidence' in s) {
      for (const e of s.evidence) {
        if (!Number.isFinite(e.z)) continue;
        const k = `z:${e.family}`;
        f[k] = Math.max(f[k] ?? -Infinity, t(e.z));
        if (e.inheritedFrom) f['inherited'] = 1;
      }
    } else {
      const sums = new Map<string, number>();
      for (const it of s.items) sums.set(it.family, (sums.get(it.family) ?? 0) + it.events * it.idf);
      for (const [fam, v] of sums) f[`events:${fam}`] = t(v);
    }
    return { service: s.service, features: f };
  });
}

/** a per-family z (`rankFeatures`): the features `clip` takes the positive part of */
const Z_PREFIX = 'z:';

/** The candidate matrix of a case in a feature layout (clip: per-family z's at 0 and above). */
function matrix(c: RankerCase, names: readonly string[], clip = false): Float64Array[] {
  const lo = names.map((n) => (clip && n.startsWith(Z_PREFIX) ? 0 : -Infinity));
  return c.candidates.map((x) => Float64Array.from(names, (n, j) => Math.max(lo[j], x.features[n] ?? 0)));
}

interface Prepared {
  X: Float64Array[];
  y: number;
  state: number;
}

function prepare(cases: readonly RankerCase[], names: readonly string[], clip: boolean): Prepared[] {
  const out: Prepared[] = [];
  for (const c of cases) {
    const y = c.candidates.findIndex((x) => x.service === c.truth);
    // a root cause the label-free ranking never named says nothing about how to weigh evidence
    if (y < 0 || c.candidates.length < 2) continue;
    out.push({ X: matrix(c, names, clip), y, state: c.state ?? 0 });
  }
  return out;
}

function softmax(X: readonly Float64Array[], w: Float64Array): Float64Array {
  const s = Float64Array.from(X, (x) => dot(x, w));
  const m = Math.max(...s);
  let z = 0;
  for (let i = 0; i < s.length; i++) z += s[i] = Math.exp(s[i] - m);
  for (let i = 0; i < s.length; i++) s[i] /= z;
  return s;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Solves A x = b (A symmetric positive definite, small) by Gaussian elimination with pivoting. */
function solve(A: Float64Array[], b: Float64Array): Float64Array {
  const n = b.length;
  const M = A.map((r, i) => Float64Array.from([...r, b[i]]));
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    const d = M[c][c];
    if (Math.abs(d) < 1e-12) continue;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r][c] / d;
      if (f !== 0) for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  return Float64Array.from({ length: n }, (_, i) => (Math.abs(M[i][i]) < 1e-12 ? 0 : M[i][n] / M[i][i]));
}

/** Newton's method on the loss + λ/2‖w − w0‖² (convex: the penalty keeps the Hessian definite). */
function fitWeights(data: readonly Prepared[], d: number, lambda: number, w0: Float64Array, loss: RankerLoss): Float64Array {
  return loss === 'pairwise' ? fitPairwise(data, d, lambda, w0) : fitLogit(data, d, lambda, w0);
}

/** Conditional logit: NLL of the root cause among the case's candidates. */
function fitLogit(data: readonly Prepared[], d: number, lambda: number, w0: Float64Array): Float64Array {
  const w = Float64Array.from(w0);
  for (let it = 0; it < 50; it++) {
    const g = Float64Array.from(w, (v, j) => lambda * (v - w0[j]));
    const H = Array.from({ length: d }, (_, i) => Float64Array.from({ length: d }, (_, j) => (i === j ? lambda : 0)));
    for (const c of data) {
      const p = softmax(c.X, w);
      const mean = new Float64Array(d);
      c.X.forEach((x, i) => {
        for (let j = 0; j < d; j++) mean[j] += p[i] * x[j];
      });
      for (let j = 0; j < d; j++) g[j] += mean[j] - c.X[c.y][j];
      c.X.forEach((x, i) => {
        for (let a = 0; a < d; a++) {
          const xa = x[a] - mean[a];
          if (xa === 0) continue;
          for (let b = 0; b < d; b++) H[a][b] += p[i] * xa * (x[b] - mean[b]);
        }
      });
    }
    const step = solve(H, g);
    let norm = 0;
    for (let j = 0; j < d; j++) ((w[j] -= step[j]), (norm += step[j] * step[j]));
    if (Math.sqrt(norm) < 1e-8) break;
  }
  return w;
}

/** RankNet: per case the mean over its (root, other) pairs of log(1 + exp(−w·(x_root − x_other))). */
function fitPairwise(data: readonly Prepared[], d: number, lambda: number, w0: Float64Array): Float64Array {
  const w = Float64Array.from(w0);
  const diff = new Float64Array(d);
  for (let it = 0; it < 50; it++) {
    const g = Float64Array.from(w, (v, j) => lambda * (v - w0[j]));
    const H = Array.from({ length: d }, (_, i) => Float64Array.from({ length: d }, (_, j) => (i === j ? lambda : 0)));
    for (const c of data) {
      const pairs = c.X.length - 1;
      for (let i = 0; i < c.X.length; i++) {
        if (i === c.y) continue;
        for (let j = 0; j < d; j++) diff[j] = c.X[c.y][j] - c.X[i][j];
        // s = P(the pair is misordered) = σ(−w·diff): the loss's slope; s(1 − s) its curvature
        const s = 1 / (1 + Math.exp(dot(diff, w)));
        const h = (s * (1 - s)) / pairs;
        for (let a = 0; a < d; a++) {
          if (diff[a] === 0) continue;
          g[a] -= (s * diff[a]) / pairs;
          for (let b = 0; b < d; b++) H[a][b] += h * diff[a] * diff[b];
        }
      }
    }
    const step = solve(H, g);
    let norm = 0;
    for (let j = 0; j < d; j++) ((w[j] -= step[j]), (norm += step[j] * step[j]));
    if (Math.sqrt(norm) < 1e-8) break;
  }
  return w;
}

/** 0-based rank of the truth under weights w (ties: the candidate listed first wins, as in `rank`). */
function rankOfTruth(c: Prepared, w: Float64Array): number {
  const v = c.X.map((x) => dot(x, w));
  let r = 0;
  for (let i = 0; i < v.length; i++) if (v[i] > v[c.y] || (v[i] === v[c.y] && i < c.y)) r++;
  return r;
}

/** log(1 + eˣ) without overflow */
const softplus = (x: number) => (x > 30 ? x : Math.log1p(Math.exp(x)));

/** Log-likelihood of the cases under the loss (pairwise: each case's mean over its pairs). */
function logLik(data: readonly Prepared[], w: Float64Array, loss: RankerLoss): number {
  let s = 0;
  for (const c of data) {
    if (loss === 'conditional-logit') {
      s += Math.log(Math.max(softmax(c.X, w)[c.y], 1e-300));
      continue;
    }
    const root = dot(c.X[c.y], w);
    let pair = 0;
    for (let i = 0; i < c.X.length; i++) if (i !== c.y) pair -= softplus(dot(c.X[i], w) - root);
    s += pair / (c.X.length - 1);
  }
  return s;
}

export interface RankerOptions {
  lambdas?: readonly number[];
  /** default RANKER_LOSS */
  loss?: RankerLoss;
  /** per-family z's by their positive part (default true) */
  clip?: boolean;
  n0?: number;
  /** number of states (default: 1 + the largest state of the training cases) */
  states?: number;
}

export class LinearRanker {
  private constructor(private readonly json: RankerJSON) {}

  get features(): readonly string[] {
    return this.json.features;
  }

  toJSON(): RankerJSON {
    return this.json;
  }

  static fromJSON(j: RankerJSON): LinearRanker {
    if (j?.kind !== 'conditional-logit' || !RANKER_VERSIONS.includes(j.version)) throw new Error(`not a ranker of version ${RANKER_VERSIONS.join(' or ')}`);
    return new LinearRanker(j);
  }

  /** Candidates best first; services not among them keep their order after them. */
  rank(candidates: readonly RankCandidate[], state = 0): string[] {
    const w = Float64Array.from(this.json.states[state] ?? this.json.global);
    const X = matrix({ candidates: [...candidates] }, this.json.features, this.json.clip === true);
    return candidates
      .map((c, i) => ({ s: c.service, v: dot(X[i], w), i }))
      .sort((a, b) => b.v - a.v || a.i - b.i)
      .map((e) => e.s);
  }

  /**
   * Fits global weights (λ by leave-one-group-out cross-validation over the cases' groups, on
   * held-out MRR, the evidence ranking's own among the candidates), then per-state weights
   * pulled toward the global ones.
   */
  static fit(cases: readonly RankerCase[], opts: RankerOptions = {}): LinearRanker {
    const names = [...new Set(cases.flatMap((c) => c.candidates.flatMap((x) => Object.keys(x.features))))].sort();
    if (!names.includes(PRIOR_FEATURE)) names.unshift(PRIOR_FEATURE);
    const d = names.length;
    const w0 = Float64Array.from(names, (n) => (n === PRIOR_FEATURE ? 1 : 0));
    const lambdas = opts.lambdas ?? RANKER_LAMBDAS;
    const loss = opts.loss ?? RANKER_LOSS;
    const clip = opts.clip ?? true;
    const groups = [...new Set(cases.map((c) => c.group ?? 0))];
    // held-out MRR (and log-likelihood, reported) of each λ and of the evidence ranking itself
    // (λ = ∞: the candidates' own order); a fitted ranker is used only where it is strictly
    // better than that on the training groups (the rule the tuned detectors follow)
    const cv = [...lambdas, Infinity].map((lambda) => {
      if (groups.length < 2) return { lambda, mrr: null as number | null, logLik: null as number | null };
      let rr = 0;
      let ll = 0;
      let n = 0;
      for (const g of groups) {
        const test = prepare(cases.filter((c) => (c.group ?? 0) === g), names, clip);
        if (!test.length) continue;
        const w = lambda === Infinity ? w0 : fitWeights(prepare(cases.filter((c) => (c.group ?? 0) !== g), names, clip), d, lambda, w0, loss);
        for (const c of test) rr += 1 / (1 + rankOfTruth(c, w));
        if (lambda !== Infinity) ll += logLik(test, w, loss);
        n += test.length;
      }
      return { lambda, mrr: n ? rr / n : null, logLik: n && lambda !== Infinity ? ll / n : null };
    });
    // λ by held-out MRR, the evidence ranking itself among the candidates; ties go to the larger
    // λ and finally to the evidence ranking (the simplest)
    const measured = cv.filter((x): x is { lambda: number; mrr: number; logLik: number | null } => x.mrr !== null);
    const lambda = measured.length ? measured.reduce((a, b) => (b.mrr > a.mrr || (b.mrr === a.mrr && b.lambda > a.lambda) ? b : a)).lambda : Infinity;
    const all = prepare(cases, names, clip);
    const global = lambda === Infinity ? w0 : fitWeights(all, d, lambda, w0, loss);
    const k = opts.states ?? 1 + Math.max(0, ...cases.map((c) => c.state ?? 0));
    const n0 = opts.n0 ?? RANKER_STATE_N0;
    const states = Array.from({ length: k }, (_, s) => {
      const own = all.filter((c) => c.state === s);
      if (!own.length) return null;
      // pulled toward the global weights as if by n0 cases of unit curvature: a state's own
      // likelihood (a sum over its n cases) outweighs it only once n is well past n0
      return lambda === Infinity ? null : Array.from(fitWeights(own, d, lambda + n0, global, loss));
    });
    // JSON has no Infinity: λ = null is the evidence ranking (w = w₀)
    const json = (l: number) => (l === Infinity ? null : l);
    return new LinearRanker({ kind: 'conditional-logit', version: RANKER_VERSION, loss, clip, features: names, lambda: json(lambda), n0, global: Array.from(global), states, crossValidation: cv.map((x) => ({ lambda: json(x.lambda), mrr: x.mrr, logLik: x.logLik })), cases: all.length });
  }
}
