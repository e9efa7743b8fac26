import type { Backbone } from './types.js';

/**
 * `hash`: signed feature hashing of word unigrams, word bigrams and in-word character n-grams.
 * No weights, no downloads, deterministic across machines and Node versions (only 32-bit
 * integer arithmetic). Meant as the fast default and as the reference every learned backbone
 * has to beat.
 *
 * Tokens: a word starts with a letter (or any non-ASCII char) and runs on over letters, digits
 * and `_` (`p99`, `http2`, `cart_service`); a number starts with a digit (`-` counts as its
 * sign only after a non-word char), may have a fraction and an exponent, and stands for its
 * bucket: sign and decimal order of magnitude (`0.18`, `0.19` → `+e-1`; `180` → `+e2`;
 * zero alone). Digits glued after a number's end start a new token (`100ms` → `+e2`, `ms`).
 * Bigrams pair consecutive tokens with the numbers already bucketed, so
 * "latency 0.18" and "latency 0.19" share their bigram too.
 *
 * Weighting: per text, each distinct feature gets `groupWeight · (1 + ln tf)` (sublinear tf,
 * counted exactly per feature before hashing, not per bucket), lands in bucket
 * `h mod dim` with the sign of one hash bit, and the row is L2-normalised. A text with no
 * token at all gets one fixed `<empty>` feature, so every row has norm 1.
 */

/** Bumped whenever a change alters any vector: it is part of the id, hence of cache keys. */
export const HASH_BACKBONE_VERSION = 1;

export interface HashOptions {
  /** Output dimension (buckets). Default 1024. */
  dim?: number;
  /** Character n-gram lengths within words, inclusive; `[0, 0]` disables them. Default [3, 5]. */
  chars?: [number, number];
  /** Word bigrams on/off. Default on. */
  bigrams?: boolean;
  /** Hash seed: different seeds give independent (equally good) projections. Default 0. */
  seed?: number;
}

const WEIGHT_WORD = 1.0;
const WEIGHT_BIGRAM = 0.7;
// There are several n-grams per word; a smaller weight keeps whole words dominant while
// n-grams still tie together inflections and ids that share stems (checkout/checkoutservice).
const WEIGHT_CHAR = 0.25;
/** Characters of a word that feed n-grams: long blobs (base64, hashes) would only add noise. */
const MAX_NGRAM_WORD = 32;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

// Distinct starting states keep the feature families apart: the word `abc` and the n-gram
// `abc` must not be one feature.
const NS_WORD = 0x5bd1e995;
const NS_NUMBER = 0x27d4eb2f;
const NS_BIGRAM = 0x165667b1;
const NS_CHAR = 0x9e3779b1;
const NS_EMPTY = 0x85ebca6b;

/** murmur3's finaliser: spreads FNV's weak low bits before we take bucket and sign from them. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

function fnvStep(h: number, c: number): number {
  return Math.imul(h ^ c, FNV_PRIME);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Lower-case ASCII letters, `_`, and anything non-ASCII (accented letters, CJK…). */
function isLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || c === 95 || c >= 128;
}

/**
 * Per-text table of distinct features (32-bit key → tf, weight), open addressing with
 * generation stamps so that moving to the next text costs nothing.
 */
class FeatureTable {
  private size = 4096;
  private keys = new Int32Array(this.size);
  private counts = new Float64Array(this.size);
  private weights = new Float64Array(this.size);
  private stamps = new Uint32Array(this.size);
  private gen = 1;
  used = new Int32Array(this.size);
  nUsed = 0;

  reset(): void {
    this.nUsed = 0;
    this.gen++;
    if (this.gen === 0xffffffff) {
      this.stamps.fill(0);
      this.gen = 1;
    }
  }

  add(key: number, weight: number): void {
    if (this.nUsed * 2 >= this.size) this.grow();
    const mask = this.size - 1;
    let i = key & mask;
    for (;;) {
      if (this.stamps[i] !== this.gen) {
        this.stamps[i] = this.gen;
        this.keys[i] = key;
        this.counts[i] = 1;
        this.weights[i] = weight;
        this.used[this.nUsed++] = i;
        return;
      }
      if (this.keys[i] === key) {
        this.counts[i]++;
        return;
      }
      i = (i + 1) & mask;
    }
  }

  key(slot: number): number {
    return this.keys[slot];
  }
  value(slot: number): number {
    return this.weights[slot] * (1 + Math.log(this.counts[slot]));
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldCounts = this.counts;
    const oldWeights = this.weights;
    const oldUsed = this.used.subarray(0, this.nUsed);
    this.size *= 2;
    this.keys = new Int32Array(this.size);
    this.counts = new Float64Array(this.size);
    this.weights = new Float64Array(this.size);
    this.stamps = new Uint32Array(this.size);
    const used = new Int32Array(this.size);
    this.gen = 1;
    const mask = this.size - 1;
    let n = 0;
    for (const s of oldUsed) {
      let i = oldKeys[s] & mask;
      while (this.stamps[i] === this.gen) i = (i + 1) & mask;
      this.stamps[i] = this.gen;
      this.keys[i] = oldKeys[s];
      this.counts[i] = oldCounts[s];
      this.weights[i] = oldWeights[s];
      used[n++] = i;
    }
    this.used = used;
    this.nUsed = n;
  }
}

export class HashBackbone implements Backbone {
  readonly id: string;
  readonly dim: number;
  /** Hashing a text (~µs) is cheaper than reading its row back from disk, and needs no space. */
  readonly cacheable = false;
  private readonly minN: number;
  private readonly maxN: number;
  private readonly bigrams: boolean;
  private readonly seed: number;
  private readonly table = new FeatureTable();
  private readonly codes = new Int32Array(MAX_NGRAM_WORD + 2);
  private readonly acc: Float64Array;

  constructor(options: HashOptions = {}) {
    const dim = options.dim ?? 1024;
    const [minN, maxN] = options.chars ?? [3, 5];
    const seed = options.seed ?? 0;
    if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`hash: dim must be a positive integer, got ${dim}`);
    if (!Number.isInteger(minN) || !Number.isInteger(maxN) || minN < 0 || maxN < minN || maxN > 8 || (minN === 0) !== (maxN === 0)) {
      throw new RangeError(`hash: chars must be a range a-b with 1 ≤ a ≤ b ≤ 8, or 0; got ${minN}-${maxN}`);
    }
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`hash: seed must be an integer in [0, 2^32), got ${seed}`);
    this.dim = dim;
    this.acc = new Float64Array(dim);
    this.minN = minN;
    this.maxN = maxN;
    this.bigrams = options.bigrams ?? true;
    this.seed = seed;
    const chars = minN === 0 ? '0' : `${minN}-${maxN}`;
    this.id = `hash-v${HASH_BACKBONE_VERSION}:dim=${dim},chars=${chars},bigrams=${this.bigrams ? 1 : 0},seed=${seed}`;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }

  /** Synchronous form for hot loops that do not need the Backbone interface. */
  embedOne(text: string): Float32Array {
    const table = this.table;
    table.reset();
    this.collect(text.toLowerCase(), table);
    if (table.nUsed === 0) table.add(fmix32(NS_EMPTY ^ this.seed), WEIGHT_WORD);
    const out = new Float32Array(this.dim);
    const dim = this.dim;
    const used = table.used;
    let sq = 0;
    // Accumulate in float64 before rounding once to float32.
    const acc = this.acc;
    for (let u = 0; u < table.nUsed; u++) {
      const slot = used[u];
      const h = table.key(slot);
      const idx = (h & 0x7fffffff) % dim;
      const v = table.value(slot);
      acc[idx] += h < 0 ? -v : v;
    }
    for (let i = 0; i < dim; i++) sq += acc[i] * acc[i];
    // Signed collisions can cancel out exactly; fall back to the zero row's one feature then.
    const inv = sq > 0 ? 1 / Math.sqrt(sq) : 0;
    for (let i = 0; i < dim; i++) out[i] = acc[i] * inv;
    acc.fill(0);
    if (sq === 0) out[(fmix32(NS_EMPTY ^ this.seed) & 0x7fffffff) % dim] = 1;
    return out;
  }

  private collect(s: string, table: FeatureTable): void {
    const n = s.length;
    const seed = this.seed;
    const wordNs = NS_WORD ^ seed;
    const numNs = NS_NUMBER ^ seed;
    const biNs = NS_BIGRAM ^ seed;
    let prev = 0;
    let hasPrev = false;
    let i = 0;
    while (i < n) {
      const c = s.charCodeAt(i);
      let tokenHash: number;
      if (isLetter(c)) {
        const start = i;
        let h = Math.imul(FNV_OFFSET ^ wordNs, FNV_PRIME);
        while (i < n) {
          const d = s.charCodeAt(i);
          if (!(isLetter(d) || isDigit(d))) break;
          h = fnvStep(h, d);
          i++;
        }
        tokenHash = h;
        if (this.minN > 0) this.charNgrams(s, start, i, table);
      } else if (isDigit(c) || ((c === 45 || c === 46) && i + 1 < n && isDigit(s.charCodeAt(i + 1)) && (i === 0 || !isWordChar(s.charCodeAt(i - 1))))) {
        // Number: [-]digits[.digits][e[+-]digits], or [-].digits
        let negative = false;
        if (c === 45) {
          negative = true;
          i++;
        }
        let intDigits = 0; // significant integer digits (leading zeros dropped)
        let leadingFracZeros = 0;
        let nonzero = false;
        while (i < n && isDigit(s.charCodeAt(i))) {
          const d = s.charCodeAt(i);
          if (intDigits > 0 || d !== 48) {
            intDigits++;
            nonzero = true;
          }
          i++;
        }
        if (i + 1 < n && s.charCodeAt(i) === 46 && isDigit(s.charCodeAt(i + 1))) {
          i++;
          let seenNonzero = false;
          while (i < n && isDigit(s.charCodeAt(i))) {
            const d = s.charCodeAt(i);
            if (!seenNonzero) {
              if (d === 48) leadingFracZeros++;
              else seenNonzero = true;
            }
            i++;
          }
          if (seenNonzero) nonzero = true;
        }
        let exp = 0;
        if (i + 1 < n && (s.charCodeAt(i) === 101) /* e */) {
          let j = i + 1;
          let expNeg = false;
          const sc = s.charCodeAt(j);
          if ((sc === 43 || sc === 45) && j + 1 < n) {
            expNeg = sc === 45;
            j++;
          }
          if (isDigit(s.charCodeAt(j))) {
            let e = 0;
            while (j < n && isDigit(s.charCodeAt(j))) {
              e = Math.min(e * 10 + (s.charCodeAt(j) - 48), 10000);
              j++;
            }
            // `1e5x` stays 1, then a word: only take the exponent when it ends the token.
            if (j >= n || !isLetter(s.charCodeAt(j))) {
              exp = expNeg ? -e : e;
              i = j;
            }
          }
        }
        let bucket: number;
        if (!nonzero) bucket = 0x7fff; // zero: its own bucket, sign ignored (-0 is 0)
        else {
          const order = (intDigits > 0 ? intDigits - 1 : -(leadingFracZeros + 1)) + exp;
          bucket = ((negative ? 1 : 0) << 16) | ((order + 0x4000) & 0xffff);
        }
        let h = Math.imul(FNV_OFFSET ^ numNs, FNV_PRIME);
        h = fnvStep(h, bucket & 0xff);
        h = fnvStep(h, (bucket >>> 8) & 0xff);
        h = fnvStep(h, bucket >>> 16);
        tokenHash = h;
      } else {
        i++;
        continue;
      }
      table.add(fmix32(tokenHash), WEIGHT_WORD);
      if (this.bigrams && hasPrev) {
        let h = Math.imul(FNV_OFFSET ^ biNs, FNV_PRIME);
        h = Math.imul(h ^ prev, FNV_PRIME);
        h = Math.imul(h ^ tokenHash, FNV_PRIME);
        table.add(fmix32(h), WEIGHT_BIGRAM);
      }
      prev = tokenHash;
      hasPrev = true;
    }
  }

  /** n-grams of `<word>` (fastText's boundary marks), over the first MAX_NGRAM_WORD chars. */
  private charNgrams(s: string, start: number, end: number, table: FeatureTable): void {
    const codes = this.codes;
    const len = Math.min(end - start, MAX_NGRAM_WORD);
    codes[0] = 60; // '<'
    for (let k = 0; k < len; k++) codes[k + 1] = s.charCodeAt(start + k);
    codes[len + 1] = 62; // '>'
    const total = len + 2;
    const minN = this.minN;
    const maxN = this.maxN;
    const base = Math.imul(FNV_OFFSET ^ (NS_CHAR ^ this.seed), FNV_PRIME);
    for (let a = 0; a + minN <= total; a++) {
      let h = base;
      const lim = Math.min(maxN, total - a);
      for (let k = 0; k < lim; k++) {
        h = fnvStep(h, codes[a + k]);
        if (k + 1 >= minN) table.add(fmix32(h), WEIGHT_CHAR);
      }
    }
  }
}

function isWordChar(c: number): boolean {
  return isLetter(c) || isDigit(c) || (c >= 65 && c <= 90);
}
