/**
 * One candidate line of a view's text, ranked by `score` (higher first), ties by `tie`. The
 * text may be given as a function: it is then only built if the line makes it into the budget.
 */
export interface Line {
  score: number;
  tie: string;
  text: string | (() => string);
}

export const DEFAULT_TEXT_BUDGET = 1500;
/** Longest single quoted item (template text, metric name) before it is cut with "…". */
export const MAX_ITEM_CHARS = 160;

export function byImportance(a: Line, b: Line): number {
  return b.score - a.score || (a.tie < b.tie ? -1 : a.tie > b.tie ? 1 : 0);
}

export function clip(s: string, max = MAX_ITEM_CHARS): string {
  return s.length <= max ? s : s.slice(0, max - 1) + '…';
}

/**
 * Header first, then lines in order of importance while they fit in `budget` characters
 * (newlines included). The first line that does not fit ends the list, so what is kept is
 * always a prefix of the ranking; a last "(+N more)" tells a reader that lines were cut.
 */
export function assemble(header: string, lines: Line[], budget: number, footer?: string): string {
  lines.sort(byImportance);
  return assembleRanked(
    header,
    lines.length,
    (i) => {
      const t = lines[i].text;
      return typeof t === 'string' ? t : t();
    },
    budget,
    footer,
  );
}

/** `assemble` for lines already in order of importance, built by position only when they fit. */
export function assembleRanked(header: string, count: number, lineAt: (i: number) => string, budget: number, footer?: string): string {
  const head = header.length > budget ? header.slice(0, Math.max(0, budget - 1)) + '…' : header;
  const parts = [head];
  let used = head.length;
  let i = 0;
  for (; i < count; i++) {
    const l = lineAt(i);
    if (used + 1 + l.length > budget) break;
    parts.push(l);
    used += 1 + l.length;
  }
  const rest = count - i;
  if (rest > 0) {
    const more = `(+${rest} more)`;
    if (used + 1 + more.length <= budget) parts.push(more);
  } else if (footer && used + 1 + footer.length <= budget) {
    parts.push(footer);
  }
  return parts.join('\n');
}
