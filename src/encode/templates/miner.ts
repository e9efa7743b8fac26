import { DEFAULT_MASK_RULES, WILDCARD, isWildcardLike, maskToken, maskTokens, type MaskRules } from './mask.js';

export interface TemplateMinerOptions {
  /**
   * Depth of the prefix tree: one level for the token count, then `depth − 2` levels for the
   * leading tokens (a token holding `<*>` goes down the wildcard branch). Default 4.
   */
  depth?: number;
  /**
   * A line joins the most similar template of its length and branch when at least this share
   * of positions agree (a `<*>` of the template agrees with anything). Default 0.95: after
   * masking, a word that differs is evidence of another event more often than of a variable
   * (Loghub-2k has `VM Paused` / `VM Resumed`, `stored as bytes` / `stored as values` as
   * separate events), so only very long lines absorb one differing word; word variables are
   * found by `variableValues` instead.
   */
  similarity?: number;
  /** Children per tree node; further tokens share the wildcard child. Default 100. */
  maxChildren?: number;
  /**
   * Templates that differ in exactly one word position merge into one template with `<*>`
   * there once this many of them exist (that position takes that many different words, so
   * it is a variable such as a user or host name). Default 4; 0 turns it off.
   */
  variableValues?: number;
  /** ...and when the templates have at least this many other constant tokens. Default 3. */
  variableContext?: number;
  /**
   * Merge templates whose constant tokens, read in order with every `<*>`-only token left
   * out, are the same (variable-length parameters, optional variable parts). Default true.
   */
  mergeEqualConstants?: boolean;
  /** Built-in masking rules, each on by default (see `MaskRules`). */
  mask?: Partial<MaskRules>;
  /**
   * Extra masks applied to the raw line before tokenizing, each match becomes `<*>` (then
   * `params` show `<*>` for it). Default none: the built-in rules are meant to suffice.
   */
  extraMasks?: RegExp[];
  /** Compute `params` in `add` and `match`. Default true. */
  params?: boolean;
}

export interface TemplateMatch {
  /** stable id of the template (the surviving id when templates merged) */
  templateId: number;
  /** the template text: tokens joined by one space, variables as `<*>` */
  template: string;
  /** true when this line created the template */
  isNew: boolean;
  /** the line's text behind each `<*>` of `template`, when the two align */
  params?: string[];
}

export interface TemplateInfo {
  id: number;
  template: string;
  count: number;
}

/** Serialised miner state (`toJSON`), versioned. */
export interface TemplateMinerState {
  version: 1;
  options: Required<Omit<TemplateMinerOptions, 'extraMasks' | 'mask'>> & { mask: MaskRules; extraMasks: { source: string; flags: string }[] };
  clusters: { id: number; tokens: string[]; count: number; alias?: number }[];
  /** the prefix tree: per token count, nested children; leaves list cluster ids */
  tree: [number, TreeState][];
}

interface TreeState {
  c?: [string, TreeState][];
  l?: number[];
}

interface Cluster {
  id: number;
  tokens: string[];
  count: number;
  /** canonical cluster this one was merged into (self when not merged) */
  into: Cluster;
  signature: string;
  siblingKeys: string[];
  /** tokens joined, cached (cleared when the tokens change) */
  text: string | undefined;
}

interface Node {
  children: Map<string, Node>;
  clusters: Cluster[];
}

function newNode(): Node {
  return { children: new Map(), clusters: [] };
}

const STATE_VERSION = 1;

/**
 * A Drain-style online log template miner (He et al., ICWS 2017) with stronger masking and
 * template merging; see docs/templates.md. Feed lines with `add` (learns) or `match` (does
 * not learn); ids are stable, and a merged template keeps answering to its old id
 * (`resolve`).
 */
export class TemplateMiner {
  private readonly opt: TemplateMinerState['options'];
  private readonly rules: MaskRules;
  private readonly extra: RegExp[];
  private root = new Map<number, Node>();
  private byId = new Map<number, Cluster>();
  private nextId = 1;
  private maskCache = new Map<string, string>();
  private bySignature = new Map<string, Cluster>();
  private siblings = new Map<string, Set<Cluster>>();

  constructor(options: TemplateMinerOptions = {}) {
    const depth = options.depth ?? 4;
    if (!Number.isInteger(depth) || depth < 2) throw new RangeError('TemplateMiner: depth must be an integer ≥ 2');
    const similarity = options.similarity ?? 0.95;
    if (!(similarity >= 0 && similarity <= 1)) throw new RangeError('TemplateMiner: similarity must be in [0, 1]');
    const count = (name: string, v: number | undefined, def: number, min: number): number => {
      const x = v ?? def;
      if (!Number.isInteger(x) || x < min) throw new RangeError(`TemplateMiner: ${name} must be an integer ≥ ${min}`);
      return x;
    };
    this.rules = { ...DEFAULT_MASK_RULES, ...options.mask };
    this.extra = (options.extraMasks ?? []).map((r) => new RegExp(r.source, r.flags.includes('g') ? r.flags : r.flags + 'g'));
    this.opt = {
      depth,
      similarity,
      maxChildren: count('maxChildren', options.maxChildren, 100, 1),
      variableValues: count('variableValues', options.variableValues, 4, 0),
      variableContext: count('variableContext', options.variableContext, 3, 0),
      mergeEqualConstants: options.mergeEqualConstants ?? true,
      params: options.params ?? true,
      mask: this.rules,
      extraMasks: this.extra.map((r) => ({ source: r.source, flags: r.flags })),
    };
  }

  /**
   * Masked tokens of a line (what the miner compares). `raw`, when given (empty), receives
   * the line's text behind each masked token.
   */
  tokenize(line: string, raw?: string[]): string[] {
    let text = line;
    for (const r of this.extra) text = text.replace(r, WILDCARD);
    const tokens: string[] = raw ?? [];
    const masked: string[] = [];
    const n = text.length;
    let i = 0;
    while (i < n) {
      while (i < n && isSpace(text.charCodeAt(i))) i++;
      if (i >= n) break;
      const s = i;
      while (i < n && !isSpace(text.charCodeAt(i))) i++;
      const tok = text.slice(s, i);
      tokens.push(tok);
      let m = this.maskCache.get(tok);
      if (m === undefined) {
        m = maskToken(tok, this.rules);
        // bounded: ids and numbers make the set of distinct tokens grow without end
        if (this.maskCache.size >= 200_000) this.maskCache.clear();
        this.maskCache.set(tok, m);
      }
      masked.push(m);
    }
    return maskTokens(tokens, masked, this.rules);
  }

  /** Learns from one line: joins the most similar template or starts a new one. */
  add(line: string): TemplateMatch {
    const raw: string[] | undefined = this.opt.params ? [] : undefined;
    const tokens = this.tokenize(line, raw);
    let c = this.search(tokens);
    let isNew = false;
    if (c === undefined) {
      c = this.create(tokens);
      isNew = true;
    } else {
      c.count++;
      if (c.into !== c) c.into.count++;
      let changed = false;
      const t = c.tokens;
      for (let i = 0; i < t.length; i++) {
        if (t[i] !== tokens[i] && t[i] !== WILDCARD) {
          const m = mergeTokens(t[i], tokens[i]);
          if (m !== t[i]) {
            t[i] = m;
            changed = true;
          }
        }
      }
      if (changed) {
        c.text = undefined;
        this.reindex(c);
      }
    }
    if (isNew && c.into !== c) isNew = false;
    return this.result(c, isNew, raw);
  }

  /** Finds the template of a line without learning; undefined when none is similar enough. */
  match(line: string): TemplateMatch | undefined {
    const raw: string[] | undefined = this.opt.params ? [] : undefined;
    const tokens = this.tokenize(line, raw);
    let c = this.search(tokens);
    // what add() would merge at once: a template with the same constant tokens
    if (c === undefined && this.opt.mergeEqualConstants) c = this.bySignature.get(signature(tokens));
    if (c === undefined) return undefined;
    return this.result(c, false, raw);
  }

  /** The id a template answers to now (templates merge; their old ids stay valid). */
  resolve(id: number): number {
    return this.byId.get(id)?.into.id ?? id;
  }

  /** Current templates (merged ones once, under their surviving id), in id order. */
  templates(): TemplateInfo[] {
    const out: TemplateInfo[] = [];
    for (const c of this.byId.values()) if (c.into === c) out.push({ id: c.id, template: text(c), count: c.count });
    return out;
  }

  /** Template text of an id (resolving merges). */
  template(id: number): string | undefined {
    const c = this.byId.get(id);
    return c === undefined ? undefined : text(c.into);
  }

  toJSON(): TemplateMinerState {
    const clusters: TemplateMinerState['clusters'] = [];
    for (const c of this.byId.values()) {
      const e: TemplateMinerState['clusters'][number] = { id: c.id, tokens: c.tokens.slice(), count: c.count };
      if (c.into !== c) e.alias = c.into.id;
      clusters.push(e);
    }
    const tree: [number, TreeState][] = [];
    for (const [len, node] of this.root) tree.push([len, saveNode(node)]);
    return { version: STATE_VERSION, options: structuredClone(this.opt), clusters, tree };
  }

  /** The options a saved state was made with, as constructor options (masks as RegExps again). */
  static optionsOf(state: TemplateMinerState): TemplateMinerOptions {
    const o = state.options;
    return {
      depth: o.depth,
      similarity: o.similarity,
      maxChildren: o.maxChildren,
      variableValues: o.variableValues,
      variableContext: o.variableContext,
      mergeEqualConstants: o.mergeEqualConstants,
      params: o.params,
      mask: o.mask,
      extraMasks: o.extraMasks.map((r) => new RegExp(r.source, r.flags)),
    };
  }

  static fromJSON(state: TemplateMinerState): TemplateMiner {
    if (state === null || typeof state !== 'object' || state.version !== STATE_VERSION)
      throw new Error(`TemplateMiner.fromJSON: expected a state of version ${STATE_VERSION}`);
    const m = new TemplateMiner(TemplateMiner.optionsOf(state));
    for (const e of state.clusters) {
      const c: Cluster = { id: e.id, tokens: e.tokens.slice(), count: e.count, into: undefined as unknown as Cluster, signature: '', siblingKeys: [], text: undefined };
      c.into = c;
      m.byId.set(c.id, c);
      m.nextId = Math.max(m.nextId, c.id + 1);
    }
    for (const e of state.clusters) {
      if (e.alias === undefined) continue;
      const into = m.byId.get(e.alias);
      if (into === undefined) throw new Error(`TemplateMiner.fromJSON: template ${e.id} merged into unknown ${e.alias}`);
      m.byId.get(e.id)!.into = into;
    }
    for (const c of m.byId.values()) if (c.into === c) m.index(c);
    for (const [len, node] of state.tree) m.root.set(len, loadNode(node, m.byId));
    return m;
  }

  /** The answer for a line that matched `c` (reported under the template it merged into). */
  private result(c: Cluster, isNew: boolean, raw: string[] | undefined): TemplateMatch {
    const canon = c.into;
    const r: TemplateMatch = { templateId: canon.id, template: text(canon), isNew };
    if (raw !== undefined) {
      // position by position when the line's tokens align with the reported template
      const p =
        canon.tokens.length === raw.length ? positionalParams(canon.tokens, raw) : extractParams(text(canon), raw.join(' '));
      if (p !== undefined) r.params = p;
    }
    return r;
  }

  // ---- tree ----

  private leaves(tokens: string[], out: Node[]): void {
    const top = this.root.get(tokens.length);
    if (top === undefined) return;
    this.walk(top, tokens, 0, Math.min(this.opt.depth - 2, tokens.length), out);
  }

  // the exact branch and the wildcard branch both, since a generalised template sits under <*>
  private walk(node: Node, tokens: string[], d: number, levels: number, out: Node[]): void {
    if (d === levels) {
      out.push(node);
      return;
    }
    const t = tokens[d];
    if (!t.includes(WILDCARD)) {
      const exact = node.children.get(t);
      if (exact !== undefined) this.walk(exact, tokens, d + 1, levels, out);
    }
    const wild = node.children.get(WILDCARD);
    if (wild !== undefined) this.walk(wild, tokens, d + 1, levels, out);
  }

  private place(c: Cluster, tokens: string[]): void {
    let node: Node | undefined = this.root.get(tokens.length);
    if (node === undefined) {
      node = newNode();
      this.root.set(tokens.length, node);
    }
    const levels = Math.min(this.opt.depth - 2, tokens.length);
    for (let d = 0; d < levels; d++) {
      const t = tokens[d];
      let key = t.includes(WILDCARD) ? WILDCARD : t;
      let next: Node | undefined = node.children.get(key);
      if (next === undefined && key !== WILDCARD && node.children.size >= this.opt.maxChildren) {
        key = WILDCARD;
        next = node.children.get(key);
      }
      if (next === undefined) {
        next = newNode();
        node.children.set(key, next);
      }
      node = next;
    }
    if (!node.clusters.includes(c)) node.clusters.push(c);
  }

  private search(tokens: string[]): Cluster | undefined {
    const leaves: Node[] = [];
    this.leaves(tokens, leaves);
    let best: Cluster | undefined;
    let bestSim = -1;
    let bestPar = -1;
    const n = tokens.length;
    let lineWords = 0;
    for (let i = 0; i < n; i++) if (!tokens[i].includes(WILDCARD) || !isWildcardLike(tokens[i])) lineWords++;
    for (const leaf of leaves) {
      for (const c of leaf.clusters) {
        const t = c.tokens;
        let same = 0;
        let par = 0;
        let words = 0;
        for (let i = 0; i < n; i++) {
          const a = t[i];
          const b = tokens[i];
          if (a === WILDCARD) {
            par++;
            same++;
          } else if (a === b) {
            same++;
            words++;
          } else if (a.includes(WILDCARD) && tokenCompatible(a, b)) {
            par++;
            same++;
          }
        }
        // a template of variables only takes lines of variables only, not any line of its length
        if (words === 0 && lineWords > 0) continue;
        const sim = n === 0 ? 1 : same / n;
        if (sim > bestSim || (sim === bestSim && par > bestPar)) {
          best = c;
          bestSim = sim;
          bestPar = par;
        }
      }
    }
    return bestSim >= this.opt.similarity ? best : undefined;
  }

  // ---- templates and merging ----

  private create(tokens: string[]): Cluster {
    const c: Cluster = { id: this.nextId++, tokens: tokens.slice(), count: 1, into: undefined as unknown as Cluster, signature: '', siblingKeys: [], text: undefined };
    c.into = c;
    this.byId.set(c.id, c);
    this.place(c, c.tokens);
    this.index(c);
    return c;
  }

  /** Template text changed: look again for templates it now equals. */
  private reindex(c: Cluster): void {
    const canon = c.into;
    if (canon !== c) {
      // a merged variant generalised: generalise the surviving template the same way when aligned
      if (canon.tokens.length === c.tokens.length) {
        let changed = false;
        for (let i = 0; i < c.tokens.length; i++) {
          if (c.tokens[i] === WILDCARD && canon.tokens[i] !== WILDCARD) {
            canon.tokens[i] = WILDCARD;
            canon.text = undefined;
            changed = true;
          }
        }
        if (changed) this.reindex(canon);
      }
      return;
    }
    this.unindex(c);
    this.index(c);
  }

  private unindex(c: Cluster): void {
    if (this.bySignature.get(c.signature) === c) this.bySignature.delete(c.signature);
    for (const k of c.siblingKeys) {
      const s = this.siblings.get(k);
      if (s === undefined) continue;
      s.delete(c);
      if (s.size === 0) this.siblings.delete(k);
    }
    c.siblingKeys = [];
  }

  /** Indexes a canonical template, merging it with templates it turns out to equal. */
  private index(c: Cluster): void {
    if (this.opt.mergeEqualConstants) {
      c.signature = signature(c.tokens);
      const other = this.bySignature.get(c.signature);
      if (other !== undefined && other !== c) {
        this.merge(other, c);
        return;
      }
      this.bySignature.set(c.signature, c);
    } else {
      c.signature = '\u0000' + c.tokens.length + '\u0000' + c.tokens.join(' ');
      const other = this.bySignature.get(c.signature);
      if (other !== undefined && other !== c) {
        this.merge(other, c);
        return;
      }
      this.bySignature.set(c.signature, c);
    }
    const k = this.opt.variableValues;
    if (k <= 0) return;
    const t = c.tokens;
    const n = t.length;
    let constants = 0;
    for (let p = 0; p < n; p++) if (!isWildcardLike(t[p])) constants++;
    // a lone word differing needs context to be called a variable: `<status>` lines are events
    if (constants - 1 < this.opt.variableContext) return;
    const keys = siblingKeys(t);
    for (let p = 0; p < n; p++) {
      if (isWildcardLike(t[p])) continue;
      const key = keys[p];
      let set = this.siblings.get(key);
      if (set === undefined) {
        set = new Set();
        this.siblings.set(key, set);
      }
      set.add(c);
      c.siblingKeys.push(key);
      if (set.size >= k) {
        // keys are hashes: keep only true siblings (equal everywhere but p)
        const group = [...set].filter((o) => o === c || sameExcept(o.tokens, t, p));
        if (group.length >= k) {
          this.generalise(group, p);
          return;
        }
      }
    }
  }

  /** Siblings differing only at position p: p is a variable; they become one template. */
  private generalise(group: Cluster[], p: number): void {
    group.sort((a, b) => a.id - b.id);
    const keep = group[0];
    for (const c of group) this.unindex(c);
    let merged = group[0].tokens[p];
    for (const c of group) merged = mergeTokens(merged, c.tokens[p]);
    for (const c of group) {
      c.tokens[p] = merged;
      c.text = undefined;
      // variants keep their tree place; the survivor also goes where a new value at p leads
      if (c !== keep) {
        c.into = keep;
        keep.count += c.count;
        for (const v of this.byId.values()) if (v.into === c) v.into = keep;
      }
    }
    this.place(keep, keep.tokens);
    this.index(keep);
  }

  /** `b` (and what was merged into it) now answers as `a`. */
  private merge(a: Cluster, b: Cluster): void {
    const keep = a.id < b.id ? a : b;
    const gone = keep === a ? b : a;
    this.unindex(gone);
    gone.into = keep;
    keep.count += gone.count;
    for (const v of this.byId.values()) if (v.into === gone) v.into = keep;
    if (keep === b) {
      this.unindex(b);
      this.index(b);
    }
  }
}

/**
 * Whether a line token fits a template token that holds `<*>`: the token has the template's
 * text around the `<*>` (`user=<*>` takes `user=root`), or both are variables that differ in
 * decoration only (`<*>,` and `LOCAL(<*>),`).
 */
function tokenCompatible(tpl: string, tok: string): boolean {
  if (tok.includes(WILDCARD)) {
    const tplWild = isWildcardLike(tpl);
    const tokWild = isWildcardLike(tok);
    if (tplWild && tokWild) return true;
    // one bare variable, the other one variable with a word around it
    if (tplWild) return tok.indexOf(WILDCARD) === tok.lastIndexOf(WILDCARD);
    if (tokWild) return tpl.indexOf(WILDCARD) === tpl.lastIndexOf(WILDCARD);
  }
  const k = tpl.indexOf(WILDCARD);
  const pre = tpl.slice(0, k);
  const rest = tpl.slice(k + WILDCARD.length);
  if (rest.includes(WILDCARD)) return false;
  return tok.length > pre.length + rest.length && tok.startsWith(pre) && tok.endsWith(rest);
}

function isDelim(c: number): boolean {
  return !((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c >= 128);
}

/**
 * One token for two differing ones: the common text before and after the difference,
 * cut at punctuation, around a single `<*>` (`user=root`, `user=test` → `user=<*>`).
 */
export function mergeTokens(a: string, b: string): string {
  if (a === b) return a;
  if (a === WILDCARD || b === WILDCARD) return WILDCARD;
  const n = Math.min(a.length, b.length);
  let p = 0;
  while (p < n && a.charCodeAt(p) === b.charCodeAt(p)) p++;
  // the common prefix must end right after punctuation
  while (p > 0 && !isDelim(a.charCodeAt(p - 1))) p--;
  let s = 0;
  while (s < n - p && a.charCodeAt(a.length - 1 - s) === b.charCodeAt(b.length - 1 - s)) s++;
  while (s > 0 && !isDelim(a.charCodeAt(a.length - s))) s--;
  if (p + s === 0) return WILDCARD;
  const pre = a.slice(0, p);
  const suf = a.slice(a.length - s);
  // nothing of a pattern left (`<*>` or an existing pattern's own <*> fell in the middle)
  const midA = a.slice(p, a.length - s);
  const midB = b.slice(p, b.length - s);
  if (midA.length === 0 || midB.length === 0) return WILDCARD;
  const out = pre + WILDCARD + suf;
  return out.split(WILDCARD).length > 2 ? WILDCARD : out;
}

function text(c: Cluster): string {
  if (c.text === undefined) c.text = c.tokens.join(' ');
  return c.text;
}

/** Parameters of a line whose tokens align with the template's, token by token. */
function positionalParams(tpl: string[], raw: string[]): string[] | undefined {
  const out: string[] = [];
  for (let i = 0; i < tpl.length; i++) {
    const t = tpl[i];
    if (t === WILDCARD) out.push(raw[i]);
    else if (t.includes(WILDCARD)) {
      const p = extractParams(t, raw[i]);
      if (p === undefined) return undefined;
      for (const v of p) out.push(v);
    }
  }
  return out;
}

/** Constant tokens in order, `<*>`-only tokens left out. */
function signature(tokens: string[]): string {
  let s = '';
  for (const t of tokens) if (!isWildcardLike(t)) s += t + '\u0001';
  return s;
}

function sameExcept(a: string[], b: string[], p: number): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (i !== p && a[i] !== b[i]) return false;
  return true;
}

function hashString(s: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * One key per position p: the template's length, p and a 64-bit hash of every token but the
 * one at p, from prefix and suffix hashes, so that all keys cost O(length) and stay short.
 */
function siblingKeys(t: string[]): string[] {
  const n = t.length;
  const h1 = new Uint32Array(n);
  const h2 = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    h1[i] = hashString(t[i], 2166136261);
    h2[i] = hashString(t[i], 0x9747b28c);
  }
  const pre1 = new Uint32Array(n + 1);
  const pre2 = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) {
    pre1[i + 1] = Math.imul(pre1[i] ^ h1[i], 0x01000193) + 0x7f4a7c15;
    pre2[i + 1] = Math.imul(pre2[i] ^ h2[i], 0x5bd1e995) + 0x165667b1;
  }
  const suf1 = new Uint32Array(n + 1);
  const suf2 = new Uint32Array(n + 1);
  for (let i = n - 1; i >= 0; i--) {
    suf1[i] = Math.imul(suf1[i + 1] ^ h1[i], 0x85ebca6b) + 0x27d4eb2f;
    suf2[i] = Math.imul(suf2[i + 1] ^ h2[i], 0xc2b2ae35) + 0x61c88647;
  }
  const keys: string[] = new Array<string>(n);
  for (let p = 0; p < n; p++) keys[p] = `${n}:${p}:${pre1[p]}:${suf1[p + 1]}:${pre2[p]}:${suf2[p + 1]}`;
  return keys;
}

/**
 * Aligns the template's literal pieces with the line (tokens joined by one space) from left
 * to right; the text between them is the parameters. Undefined when a piece is missing.
 */
function extractParams(tpl: string, line: string): string[] | undefined {
  const first = tpl.indexOf(WILDCARD);
  if (first < 0) return [];
  if (tpl.indexOf(WILDCARD, first + WILDCARD.length) < 0) {
    // one variable: the text between the template's prefix and suffix
    const suf = tpl.length - first - WILDCARD.length;
    if (line.length < first + suf || !line.startsWith(tpl.slice(0, first)) || !line.endsWith(tpl.slice(first + WILDCARD.length)))
      return undefined;
    return [line.slice(first, line.length - suf)];
  }
  const pieces = tpl.split(WILDCARD);
  const params: string[] = [];
  if (!line.startsWith(pieces[0])) return undefined;
  let pos = pieces[0].length;
  for (let k = 1; k < pieces.length; k++) {
    const piece = pieces[k];
    if (k === pieces.length - 1) {
      if (piece.length === 0) {
        params.push(line.slice(pos));
        return params;
      }
      if (!line.endsWith(piece) || line.length - piece.length < pos) return undefined;
      params.push(line.slice(pos, line.length - piece.length));
      return params;
    }
    // a variable takes at least one character
    const at = piece.length === 0 ? pos + 1 : line.indexOf(piece, pos + 1);
    if (at < 0 || at > line.length) return undefined;
    params.push(line.slice(pos, at));
    pos = at + piece.length;
  }
  return params;
}

function saveNode(n: Node): TreeState {
  const s: TreeState = {};
  if (n.children.size > 0) s.c = [...n.children].map(([k, v]) => [k, saveNode(v)]);
  if (n.clusters.length > 0) s.l = n.clusters.map((c) => c.id);
  return s;
}

function loadNode(s: TreeState, byId: Map<number, Cluster>): Node {
  const n = newNode();
  for (const [k, v] of s.c ?? []) n.children.set(k, loadNode(v, byId));
  for (const id of s.l ?? []) {
    const c = byId.get(id);
    if (c === undefined) throw new Error(`TemplateMiner.fromJSON: tree names unknown template ${id}`);
    n.clusters.push(c);
  }
  return n;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;
}
