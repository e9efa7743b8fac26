/**
 * Masking: turns the variable parts of a log line into `<*>` before the miner compares lines.
 *
 * It works token by token (whitespace-separated), not with regexes over the whole line: one
 * pass of character tests settles most tokens, the few regexes run only on tokens that have
 * a digit or a separator, and a token's mask is cached, so the cost per line stays a few
 * hundred nanoseconds. Every rule is system-agnostic: it looks at the shape of a value
 * (digits, dots, slashes, hex, dates), never at a particular system's words.
 */

export const WILDCARD = '<*>';

/** Which built-in masking rules are on. */
export interface MaskRules {
  /**
   * Any part of a token that contains a digit (numbers, ids, times, dates, versions, hex with
   * digits). Parts are separated by `= , ; ( ) [ ] { } < > " ' |` and then `: / \ @ # .`;
   * a run of masked parts joined by single separators becomes one `<*>` (`10.0.0.1:80`,
   * `2005-06-03-15.42.50`). Word-like names with one trailing digit (`eth0`, `ssh2`, `IPV6`)
   * are kept: they name things (interfaces, protocols), they rarely vary.
   */
  digits: boolean;
  /** IPv4 and IPv6 addresses, with or without a port */
  ips: boolean;
  /** UUIDs, `0x…` hex and long hex strings (≥ 16 hex digits) */
  hex: boolean;
  /** file-system paths: two or more `/` or `\` separated parts, or a drive letter */
  paths: boolean;
  /** URLs (`scheme://…`) */
  urls: boolean;
  /** e-mail addresses */
  emails: boolean;
  /** DNS names: dotted labels of letters, digits and `-`, ending in a common top-level domain */
  hosts: boolean;
  /** month and weekday names next to a masked number (`Fri Jun 17 07:07:00 2005`) */
  dates: boolean;
  /** a size, time or frequency unit right after a masked number (`5.2 KB`, `30 ms`) */
  units: boolean;
  /** an empty pair of brackets or quotes is an empty value: `()` → `(<*>)` */
  empty: boolean;
  /** a run of whitespace tokens that are all `<*>` becomes one `<*>` (variable-length lists) */
  collapse: boolean;
}

export const DEFAULT_MASK_RULES: Readonly<MaskRules> = Object.freeze({
  digits: true,
  ips: true,
  hex: true,
  paths: true,
  urls: true,
  emails: true,
  hosts: true,
  dates: true,
  units: true,
  empty: true,
  collapse: true,
});

const RE_URL = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/\S+$/;
const RE_EMAIL = /^[\w.+-]+@[\w-]+(\.[\w-]+)+$/;
const RE_IPV4 = /^\/?\d{1,3}(\.\d{1,3}){3}(:\d+)?$/;
const RE_IPV6 = /^\[?(?=[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:)([0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{1,4}\]?(:\d+)?$/;
const RE_UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
const RE_HEX = /^(0[xX][0-9A-Fa-f]+|[0-9A-Fa-f]{16,}|[0-9a-f]{8,}|[0-9A-F]{8,})$/;
const RE_PATH = /^(~|\.{1,2}|[A-Za-z]:)?([\\/][^\\/\s]*){2,}$|^[A-Za-z]:[\\/]/;
// a DNS name: dotted labels, the last one alphabetic
const RE_DNS = /^(?:[A-Za-z0-9-]+\.)+([A-Za-z]{2,6})(:\d+)?$/;
const GENERIC_TLDS = new Set(['com', 'net', 'org', 'edu', 'gov', 'mil', 'int', 'info', 'biz', 'io', 'local', 'localdomain', 'lan', 'arpa']);
const SECOND_LEVEL = new Set(['co', 'com', 'net', 'org', 'edu', 'ac', 'gov', 'ne', 'or']);

/**
 * Host names, told apart from dotted code names (`org.apache.Foo`, `com.tencent.mm`,
 * `mapred.task.id`): the name ends in a generic top-level domain, or in a two-letter
 * country domain under a generic second level (`edu.pl`, `co.uk`), or has a label with a
 * digit or a hyphen (`5-36-59-76.dsl.example.om`).
 */
function isHost(core: string): boolean {
  const m = RE_DNS.exec(core);
  if (m === null) return false;
  const tld = m[1].toLowerCase();
  if (GENERIC_TLDS.has(tld)) return true;
  if (tld.length !== 2) return false;
  const labels = (m[2] === undefined ? core : core.slice(0, core.length - m[2].length)).split('.');
  labels.pop();
  if (SECOND_LEVEL.has(labels[labels.length - 1].toLowerCase())) return true;
  for (const l of labels) if (/[0-9-]/.test(l)) return true;
  return false;
}

const RE_VERSION = /^[vV]?\d+(\.\d+)+[A-Za-z]?$/;
const RE_HEXWORD = /^[0-9A-Fa-f]{6,}$/;

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * Whether a value with digits is a variable. A number standing alone (`9` in `broadcast_9_x`,
 * `blk_123`), a name ending in a number of two or more digits (`dn228`, `eth10`), or many
 * digits among few letters (`t761`, `9f4ef63`) is; a name with one digit (`eth0`, `ssh2`,
 * `IPV6`, `isBluetoothA2dpOn`) or a long word with a few digits inside (`Slf4jLogger`) is
 * not: it names a thing and rarely varies.
 */
export function isVariable(sub: string): boolean {
  const n = sub.length;
  let digits = 0;
  let letters = 0;
  for (let i = 0; i < n; ) {
    const c = sub.charCodeAt(i);
    if (!isDigit(c)) {
      if (isLetter(c)) letters++;
      i++;
      continue;
    }
    const s = i;
    while (i < n && isDigit(sub.charCodeAt(i))) i++;
    digits += i - s;
    const before = s > 0 && isLetter(sub.charCodeAt(s - 1));
    const after = i < n && isLetter(sub.charCodeAt(i));
    if (!before && !after) return true;
    if (i - s >= 2 && !(before && after)) return true;
  }
  if (digits === 0) return false;
  if (RE_HEXWORD.test(sub)) return true;
  if (digits === 1 && letters >= 2) return false;
  return letters < 4 * digits;
}

const MONTHS_DAYS = new Set(
  [
    'jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec',
    'january', 'february', 'march', 'april', 'june', 'july', 'august', 'september', 'october',
    'november', 'december', 'mon', 'tue', 'tues', 'wed', 'thu', 'thur', 'thurs', 'fri', 'sat', 'sun',
    'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday',
  ],
);

const UNITS = new Set([
  'b', 'kb', 'mb', 'gb', 'tb', 'pb', 'kib', 'mib', 'gib', 'tib', 'k', 'm', 'g',
  'ms', 'us', 'µs', 'ns', 's', 'sec', 'secs', 'min', 'mins', 'h', 'hz', 'khz', 'mhz', 'ghz',
]);

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

// separators between the parts of one token (`uid=0`, `(pid:12)`, `a,b`)
function isPrimary(c: number): boolean {
  switch (c) {
    case 61: // =
    case 44: // ,
    case 59: // ;
    case 40: // (
    case 41: // )
    case 91: // [
    case 93: // ]
    case 123: // {
    case 125: // }
    case 60: // <
    case 62: // >
    case 34: // "
    case 39: // '
    case 124: // |
      return true;
    default:
      return false;
  }
}

// separators inside one value (`10.0.0.1:80`, `a/b`, `x@y`, `#3#`, `f.434`)
function isSecondary(c: number): boolean {
  return c === 58 || c === 47 || c === 92 || c === 64 || c === 35 || c === 46;
}

// punctuation that may wrap a value: `(10.0.0.1)`, `[host:80],`, `'path'.`
function isWrapper(c: number): boolean {
  return isPrimary(c) || c === 46 || c === 58 || c === 33 || c === 63;
}

/** True when a token is `<*>` or only `<*>` with punctuation around or between (`(<*>)`, `<*>:<*>,`). */
export function isWildcardLike(tok: string): boolean {
  if (tok === WILDCARD) return true;
  if (!tok.includes(WILDCARD)) return false;
  for (let i = 0; i < tok.length; i++) {
    if (tok.startsWith(WILDCARD, i)) {
      i += 2;
      continue;
    }
    const c = tok.charCodeAt(i);
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || isDigit(c) || c >= 128) return false;
  }
  return true;
}

/**
 * Masks one whitespace token: whole-value rules on the token without its wrapping
 * punctuation, then the same per part (between primary separators), then digits per
 * sub-part (between secondary separators).
 */
export function maskToken(tok: string, rules: MaskRules = DEFAULT_MASK_RULES): string {
  const n = tok.length;
  let hasDigit = false;
  let hasSpecial = false;
  let hexRun = 0;
  let maxHexRun = 0;
  for (let i = 0; i < n; i++) {
    const c = tok.charCodeAt(i);
    if (isDigit(c)) hasDigit = true;
    else if (c === 47 || c === 92 || c === 64 || c === 46 || c === 58) hasSpecial = true;
    if ((c >= 97 && c <= 102) || (c >= 65 && c <= 70)) {
      if (++hexRun > maxHexRun) maxHexRun = hexRun;
    } else hexRun = 0;
  }
  if (!hasDigit && !hasSpecial && maxHexRun < 8) return rules.empty ? maskEmpty(tok) : tok;
  if (tok === WILDCARD) return tok;
  if (wholeValue(tok, rules)) return WILDCARD;
  let a = 0;
  let b = n;
  while (a < b && isWrapper(tok.charCodeAt(a))) a++;
  while (b > a && isWrapper(tok.charCodeAt(b - 1))) b--;
  if (a >= b) return tok;
  const core = a === 0 && b === n ? tok : tok.slice(a, b);
  if (wholeValue(core, rules)) return tok.slice(0, a) + WILDCARD + tok.slice(b);
  let out = tok.slice(0, a);
  let start = a;
  for (let i = a; i <= b; i++) {
    if (i === b || isPrimary(tok.charCodeAt(i))) {
      if (i > start) out += maskPart(tok.slice(start, i), rules);
      if (i < b) out += tok[i];
      start = i + 1;
    }
  }
  return out + tok.slice(b);
}

const EMPTY_PAIRS = ['()', '[]', '{}', '""', "''", '<>'];

function maskEmpty(tok: string): string {
  if (tok.length < 2) return tok;
  for (const p of EMPTY_PAIRS) {
    const k = tok.indexOf(p);
    if (k >= 0) return tok.slice(0, k + 1) + WILDCARD + tok.slice(k + 1);
  }
  return tok;
}

function maskPart(part: string, rules: MaskRules): string {
  let hasDigit = false;
  for (let i = 0; i < part.length; i++) {
    if (isDigit(part.charCodeAt(i))) {
      hasDigit = true;
      break;
    }
  }
  if (wholeValue(part, rules)) return WILDCARD;
  if (!hasDigit || !rules.digits) return part;
  // sub-parts between secondary separators; a masked run joined by single separators → one <*>
  let out = '';
  let start = 0;
  let digit = false;
  let lastWild = false; // out ends with <*> (possibly followed by one pending separator)
  let pendingSep = '';
  const n = part.length;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? part.charCodeAt(i) : -1;
    if (i === n || isSecondary(c)) {
      const sub = part.slice(start, i);
      if (digit && isVariable(sub)) {
        if (!(lastWild && pendingSep.length === 1)) out += pendingSep + WILDCARD;
        lastWild = true;
      } else if (sub.length > 0) {
        out += pendingSep + sub;
        lastWild = false;
      } else {
        out += pendingSep;
        if (pendingSep.length > 0) lastWild = false;
      }
      pendingSep = i < n ? part[i] : '';
      start = i + 1;
      digit = false;
    } else if (isDigit(c)) digit = true;
  }
  return out + pendingSep;
}

function wholeValue(core: string, rules: MaskRules): boolean {
  if (core.length < 3) return false;
  let hasDigit = false;
  let dots = 0;
  let colons = 0;
  let slashes = 0;
  let at = false;
  for (let i = 0; i < core.length; i++) {
    const c = core.charCodeAt(i);
    if (isDigit(c)) hasDigit = true;
    else if (c === 46) dots++;
    else if (c === 58) colons++;
    else if (c === 47 || c === 92) slashes++;
    else if (c === 64) at = true;
  }
  if (rules.urls && colons > 0 && slashes >= 2 && RE_URL.test(core)) return true;
  if (rules.emails && at && dots > 0 && RE_EMAIL.test(core)) return true;
  if (rules.ips && hasDigit && dots === 3 && RE_IPV4.test(core)) return true;
  if (rules.ips && colons >= 2 && RE_IPV6.test(core)) return true;
  if (rules.digits && hasDigit && dots > 0 && RE_VERSION.test(core)) return true;
  if (rules.hex) {
    if (core.length === 36 && RE_UUID.test(core)) return true;
    if ((core.length >= 8 || core.charCodeAt(1) === 120 || core.charCodeAt(1) === 88) && RE_HEX.test(core)) return true;
  }
  if (rules.paths && slashes >= 1 && RE_PATH.test(core)) return true;
  if (rules.hosts && dots >= 1 && isHost(core)) return true;
  return false;
}

/**
 * Masks a whole line, in place: `masked` holds each token's own mask (`maskToken`), `tokens`
 * the raw tokens. Applies the rules that look at neighbours (dates, units), then collapses
 * runs of `<*>` (joining the raw tokens behind a run with a space), so that both arrays end
 * up aligned, and returns `masked`.
 */
export function maskTokens(tokens: string[], masked: string[], rules: MaskRules): string[] {
  if (rules.dates || rules.units) {
    // a second sweep, right to left, only when the first masked something, so that a date's
    // names are masked from either side (`Fri Jun 17 07:07:00`)
    if (maskNamesNearVariables(masked, rules, false)) maskNamesNearVariables(masked, rules, true);
  }
  if (!rules.collapse) return masked;
  const n = masked.length;
  let w = 0;
  for (let i = 0; i < n; i++) {
    const t = masked[i];
    if (t === WILDCARD && w > 0 && masked[w - 1] === WILDCARD) {
      tokens[w - 1] += ' ' + tokens[i];
      continue;
    }
    if (w !== i) {
      masked[w] = t;
      tokens[w] = tokens[i];
    }
    w++;
  }
  masked.length = w;
  tokens.length = w;
  return masked;
}

function wildAt(masked: string[], i: number): boolean {
  if (i < 0 || i >= masked.length) return false;
  const t = masked[i];
  return t === WILDCARD || (t.includes(WILDCARD) && isWildcardLike(t));
}

function maskNamesNearVariables(masked: string[], rules: MaskRules, backwards: boolean): boolean {
  const n = masked.length;
  let changed = false;
  for (let k = 0; k < n; k++) {
    const i = backwards ? n - 1 - k : k;
    const t = masked[i];
    if (t.length > 10 || t.includes(WILDCARD)) continue;
    const prevWild = wildAt(masked, i - 1);
    if (!prevWild && !wildAt(masked, i + 1)) continue;
    const lower = trimPunct(t).toLowerCase();
    if ((rules.units && prevWild && UNITS.has(lower)) || (rules.dates && MONTHS_DAYS.has(lower))) {
      masked[i] = maskKeepPunct(t);
      changed = true;
    }
  }
  return changed;
}

function trimPunct(t: string): string {
  let a = 0;
  let b = t.length;
  while (a < b && isWrapper(t.charCodeAt(a))) a++;
  while (b > a && isWrapper(t.charCodeAt(b - 1))) b--;
  return a === 0 && b === t.length ? t : t.slice(a, b);
}

function maskKeepPunct(t: string): string {
  let a = 0;
  let b = t.length;
  while (a < b && isWrapper(t.charCodeAt(a))) a++;
  while (b > a && isWrapper(t.charCodeAt(b - 1))) b--;
  return t.slice(0, a) + WILDCARD + t.slice(b);
}
