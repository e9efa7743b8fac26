import type { Backbone } from './types.js';

/**
 * Embeds each distinct text of `texts` once: `rows[at[i]]` is the vector of `texts[i]`.
 * Telemetry views repeat (quiet windows read alike), so this saves most backbone calls.
 */
export async function embedDistinct(backbone: Backbone, texts: readonly string[]): Promise<{ rows: Float32Array[]; at: number[] }> {
  const first = new Map<string, number>();
  const distinct: string[] = [];
  const at = texts.map((t) => {
    let i = first.get(t);
    if (i === undefined) {
      i = distinct.length;
      first.set(t, i);
      distinct.push(t);
    }
    return i;
  });
  const rows = await backbone.embed(distinct);
  if (rows.length !== distinct.length) throw new Error(`backbone ${backbone.id} returned ${rows.length} rows for ${distinct.length} texts`);
  return { rows, at };
}
