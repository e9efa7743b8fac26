/**
 * Splits one CSV line (RFC 4180 quoting: fields in double quotes, "" inside quotes is a quote).
 * Returns null when the line is malformed (unterminated quote, or text after a closing quote),
 * so the caller can report it with file:line and go on.
 * Fields that span several physical lines are not supported (the telemetry exports we read
 * escape newlines inside fields).
 */
export function splitCsvLine(line: string, out: string[] = []): string[] | null {
  out.length = 0;
  const n = line.length;
  let i = 0;
  for (;;) {
    if (i < n && line.charCodeAt(i) === 34) {
      // quoted field
      let j = i + 1;
      let buf = '';
      let from = j;
      for (;;) {
        const q = line.indexOf('"', j);
        if (q < 0) return null; // unterminated
        if (q + 1 < n && line.charCodeAt(q + 1) === 34) {
          buf += line.slice(from, q + 1);
          j = q + 2;
          from = j;
          continue;
        }
        buf += line.slice(from, q);
        i = q + 1;
        break;
      }
      out.push(buf);
      if (i === n) return out;
      if (line.charCodeAt(i) !== 44) return null; // text after the closing quote
      i++;
    } else {
      const c = line.indexOf(',', i);
      if (c < 0) {
        out.push(line.slice(i));
        return out;
      }
      out.push(line.slice(i, c));
      i = c + 1;
    }
  }
}

/** Index of each name in a header row; throws nothing, missing names map to -1. */
export function headerIndex(header: string[], names: readonly string[]): number[] {
  return names.map((n) => header.indexOf(n));
}
