import { SeededRandom } from '../../src/encode/views/stats.js';

/** The project's seeded generator (mulberry32, `SeededRandom`) as a function: the same sequence on every machine. */
export function seededRandom(seed: number): () => number {
  const r = new SeededRandom(seed);
  return () => r.next();
}
