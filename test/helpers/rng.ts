import { SeededRandom } from '../../src/encode/views/stats.js';

/** The project's seeded generator (mulberry32, `SeededRandom`) as a function: the same sequence on every machine. */
export function seededRandom(seed: number): () => number {
  const r = new SeededRandom(seed);
  return () => r.next();
}

/**
 * A linear congruential generator (Numerical Recipes' constants) in [0, 1): the small fixtures of
 * the detection and embedding tests were drawn from it, so their figures stay as they were.
 */
export function lcgUniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** `lcgUniform` centred: noise in [−0.5, 0.5). */
export function lcgNoise(seed: number): () => number {
  const u = lcgUniform(seed);
  return () => u() - 0.5;
}
