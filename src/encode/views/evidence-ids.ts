/**
 * Pairs of names (service and operation, caller and callee) numbered once per pass. The span
 * evidence looked its operations and edges up by a "a\tb" key string made per span (≈520,000
 * strings on Nezha, each built and hashed afresh); a pair's number is found by its two names
 * (no string built), and its key string is made once per pair.
 */
export class PairIds {
  private readonly of = new Map<string, Map<string, number>>();
  /** the pair's first and second name, and its key (a \t b), by number */
  readonly a: string[] = [];
  readonly b: string[] = [];
  readonly keys: string[] = [];

  /** The pair's number (numbered in the order pairs first come). */
  id(a: string, b: string): number {
    let m = this.of.get(a);
    if (!m) this.of.set(a, (m = new Map()));
    let id = m.get(b);
    if (id === undefined) {
      m.set(b, (id = this.keys.length));
      this.a.push(a);
      this.b.push(b);
      this.keys.push(`${a}\t${b}`);
    }
    return id;
  }

  get size(): number {
    return this.keys.length;
  }
}
