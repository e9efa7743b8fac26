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

/**
 * Locates the fields of one CSV line without copying them: field k spans
 * `line.slice(starts[k], ends[k])`, quotes excluded for a quoted field (whose `""` pairs are
 * still doubled: see `csvField`). Returns the field count, at most `starts.length` fields are
 * located (the count still says how many there were); -1 for an unterminated quote, -2 for
 * text after a closing quote. Hot readers use it to skip fields they do not need and to avoid
 * allocating one string per field.
 *
 * `lenient` reads text after a closing quote the way Python's csv module does by default
 * (it stays in the field up to the next comma) but leaves it out of the field's bounds: a
 * reader can then recover a record whose quoted field was followed by stray text, and report it.
 */
export function csvFieldBounds(line: string, starts: Int32Array, ends: Int32Array, lenient = false): number {
  const n = line.length;
  const cap = starts.length;
  let i = 0;
  let k = 0;
  for (;;) {
    if (i < n && line.charCodeAt(i) === 34) {
      const from = i + 1;
      let j = from;
      for (;;) {
        const q = line.indexOf('"', j);
        if (q < 0) return -1;
        if (q + 1 < n && line.charCodeAt(q + 1) === 34) {
          j = q + 2;
          continue;
        }
        if (k < cap) {
          starts[k] = from;
          ends[k] = q;
        }
        k++;
        i = q + 1;
        break;
      }
      if (i === n) return k;
      if (line.charCodeAt(i) !== 44) {
        if (!lenient) return -2;
        const c = line.indexOf(',', i);
        if (c < 0) return k;
        i = c;
      }
      i++;
    } else {
      const c = line.indexOf(',', i);
      const e = c < 0 ? n : c;
      if (k < cap) {
        starts[k] = i;
        ends[k] = e;
      }
      k++;
      if (c < 0) return k;
      i = c + 1;
    }
  }
}

/** The text of a field located by `csvFieldBounds`, with `""` of a quoted field undoubled. */
export function csvField(line: string, start: number, end: number): string {
  const s = line.slice(start, end);
  // A quoted field is preceded by '"'; only then can it hold doubled quotes.
  if (start > 0 && line.charCodeAt(start - 1) === 34 && s.includes('"')) return s.replaceAll('""', '"');
  return s;
}
