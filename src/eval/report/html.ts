/**
 * The report page: one self-contained HTML file (inline CSS, inline SVG, no script, no link to
 * anything), so it opens from a mail attachment or an air-gapped machine the same way. Every
 * string from the EVAL.json is escaped; numbers that are not measurable say so in words.
 */
import { groupedBarSpec, inlineSvg, renderSvg, timelineSpec, type BarDatum, type TimelineSpan } from '../../plot/index.js';
import { statesEffects, statesEffectSummary, type EvalRow, type MetricName } from '../evaluate/index.js';
import { timeOf, type ReportCase, type ReportInput } from './read.js';
import { PAPER_PROTOCOL, TABLE1_COLUMNS, isAiops22, methodsOf, protocolsOf, table1, type Cell, type Table1 } from './table1.js';

export interface ReportFigure {
  title: string;
  /** a rendered SVG document */
  svg: string;
  caption?: string;
}

export interface ReportOptions {
  /** the Figure 4 comparison, when the report was given a model and data */
  embedding?: ReportFigure;
  /** why there is no embedding plot (shown in its place) */
  embeddingMissing?: string;
  /** where the EVAL.json came from, for the header */
  source?: string;
  /** case rows shown at most (default 400) */
  maxCases?: number;
}

export function esc(s: unknown): string {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const CSS = `
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#222;line-height:1.4}
h1{font-size:1.5em;margin-bottom:4px}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 7px;text-align:right;white-space:nowrap}
th{background:#f4f4f4}td.l,th.l{text-align:left}tr.paper td{background:#fff8e0;font-style:italic}
.nm{color:#a33;font-size:11px}.absent{color:#aaa}.note{color:#555;font-size:13px}.hook{border:1px dashed #c90;background:#fffbe8;padding:8px;font-size:13px}
.leaky{color:#a33;font-weight:bold}figure{margin:12px 0}figcaption{font-size:12px;color:#555}.chart{overflow-x:auto}
.hit{font-weight:bold;color:#064}tr.helped td{background:#eefbea}tr.cost td{background:#fdeceb}.wrap{white-space:normal;text-align:left;max-width:420px}
`;

function pct(v: number): string {
  return (100 * v).toFixed(2);
}

function cellHtml(c: Cell): string {
  if (c.kind === 'absent') return '<td class="absent" title="not run for this method">—</td>';
  if (c.kind === 'not-measurable') return `<td class="nm" title="${esc(`${c.reason} (n=${c.n})`)}">not measurable</td>`;
  return `<td title="n=${c.n}">${pct(c.value)}</td>`;
}

function table1Html(t: Table1, aiops: boolean): string {
  const groups: [string, number][] = [];
  for (const c of TABLE1_COLUMNS) {
    const last = groups[groups.length - 1];
    if (last && last[0] === c.group) last[1]++;
    else groups.push([c.group, 1]);
  }
  const names: Record<string, string> = { AD: 'Anomaly detection (AD)', FL: 'Failure localization (FL)', FD: 'Failure diagnosis (FD)' };
  const head1 = `<tr><th class="l" rowspan="2">method</th>${groups.map(([g, n]) => `<th colspan="${n}">${names[g]}</th>`).join('')}</tr>`;
  const head2 = `<tr>${TABLE1_COLUMNS.map((c) => `<th>${c.label}</th>`).join('')}</tr>`;
  const body = t.methods.map((m, i) => `<tr><td class="l">${esc(m)}</td>${t.cells[i].map(cellHtml).join('')}</tr>`);
  if (t.paper) body.push(`<tr class="paper"><td class="l" title="${esc(PAPER_PROTOCOL)}">paper (RuntimeSlicer, its protocol)</td>${t.paper.map((v) => (v === undefined ? '<td class="absent">—</td>' : `<td>${v.toFixed(2)}</td>`)).join('')}</tr>`);
  const caption = [
    `Protocol: <b>${esc(t.protocol ?? 'unnamed')}</b>${t.leaky ? ' <span class="leaky">(LEAKY: failures on both sides of the split; for comparison with published figures only)</span>' : ''}.`,
    'Figures in %. AD = detection on metrics only (window level); FL = localization at service level; FD = fault-type classification. P/R/F1 macro.',
    '“not measurable”: too few cases or classes for the figure (hover for why); “—”: the method does not do that task.',
    t.paper && aiops ? `Paper row: the paper's own Table 1 for AIOps 2022, measured on ${esc(PAPER_PROTOCOL)} — not the protocol above unless it is authors-split.` : '',
  ].filter(Boolean);
  return `<div class="chart"><table class="table1">${head1}${head2}${body.join('')}</table></div><p class="note">${caption.join(' ')}</p>`;
}

/** The (task, level, metric) series that have per-fault-type rows; AC@1 and F1 first. */
function typeSeries(rows: readonly EvalRow[], protocol: string | undefined): { task: string; level: string; metric: MetricName }[] {
  const order: MetricName[] = ['ac@1', 'f1', 'macro-f1', 'recall', 'ac@3', 'mrr'];
  const keys = new Map<string, { task: string; level: string; metric: MetricName }>();
  for (const r of rows) if (r.faultType !== undefined && (protocol === undefined || r.protocol === protocol)) keys.set(`${r.task}|${r.level}|${r.metric}`, { task: r.task, level: r.level, metric: r.metric });
  const rank = (m: MetricName) => (order.indexOf(m) < 0 ? order.length : order.indexOf(m));
  return [...keys.values()].sort((a, b) => rank(a.metric) - rank(b.metric) || a.task.localeCompare(b.task)).slice(0, 3);
}

async function typeBarsHtml(r: ReportInput, protocol: string | undefined, chartId: () => string): Promise<string> {
  const series = typeSeries(r.rows, protocol);
  if (series.length === 0) return '<p class="hook">This EVAL.json has no per-fault-type rows (rows with <code>faultType</code>), so there are no per-type bars.</p>';
  const out: string[] = [];
  for (const s of series) {
    const rows = r.rows.filter((x) => x.faultType !== undefined && (protocol === undefined || x.protocol === protocol) && x.task === s.task && x.level === s.level && x.metric === s.metric);
    const title = `${s.task} (${s.level}) ${s.metric} by fault type`;
    const counts = new Map<string, number>();
    for (const x of rows) counts.set(x.faultType as string, Math.max(counts.get(x.faultType as string) ?? 0, x.n));
    const ns = [...counts].map(([t, n]) => `${t} ${n}`).join(', ');
    // A chart of nothing but n/m labels says less than one sentence does.
    if (rows.every((x) => x.value === null || !Number.isFinite(x.value))) {
      out.push(`<p class="note"><b>${esc(title)}</b>: not measurable for any fault type (too few cases per type; cases per type: ${esc(ns)}).</p>`);
      continue;
    }
    const data: BarDatum[] = rows.map((x) => ({ group: x.faultType as string, series: x.method, value: x.value === null || !Number.isFinite(x.value) ? null : x.value, n: x.n }));
    const svg = await renderSvg(groupedBarSpec(data, { title, yTitle: s.metric }));
    out.push(`<figure class="chart">${inlineSvg(svg, chartId(), title)}<figcaption>${esc(title)}; n/m = not measurable for that type. Cases per type: ${esc(ns)}.</figcaption></figure>`);
  }
  return out.join('\n');
}

function headlineCases(r: ReportInput, protocol: string | undefined): ReportCase[] {
  const seen = new Set<string>();
  const out: ReportCase[] = [];
  for (const c of r.cases ?? []) {
    if (protocol !== undefined && c.protocol !== undefined && c.protocol !== protocol) continue;
    if (seen.has(c.id)) continue;
    seen.add(c.id);
    out.push(c);
  }
  return out;
}

async function timelineHtml(r: ReportInput, protocol: string | undefined, chartId: () => string): Promise<string> {
  const tl = r.timeline ?? {};
  const spans: TimelineSpan[] = [];
  for (const s of tl.states ?? []) spans.push({ start: timeOf(s.start), end: timeOf(s.end), lane: 'state', label: `state ${s.state}` });
  const alarmLanes = new Set<string>();
  for (const a of tl.alarms ?? []) {
    const lane = `alarm: ${a.method}`;
    alarmLanes.add(lane);
    spans.push({ start: timeOf(a.start), end: timeOf(a.end), lane, label: 'alarm' });
  }
  let faultNote = '';
  if (tl.faults?.length) {
    for (const f of tl.faults) spans.push({ start: timeOf(f.start), end: timeOf(f.end), lane: 'fault', label: f.type ?? 'fault', detail: [f.id, f.type, f.rootCause].filter(Boolean).join(' · ') });
  } else {
    // Cases carry their start only: a fault is drawn as a one-minute mark at its start.
    for (const c of headlineCases(r, protocol)) {
      const t = timeOf(c.start);
      if (Number.isFinite(t)) spans.push({ start: t, end: t + 60_000, lane: 'fault', label: c.type ?? 'fault', detail: [c.id, c.type, c.rootCause].filter(Boolean).join(' · ') });
    }
    faultNote = 'Faults are marked at their start (the cases carry no end).';
  }
  const good = spans.filter((s) => Number.isFinite(s.start) && Number.isFinite(s.end));
  const hook: string[] = [];
  if (!tl.states?.length) hook.push('per-window runtime states (<code>timeline.states</code>)');
  if (!tl.alarms?.length) hook.push('per-window alarms (<code>timeline.alarms</code>)');
  const hookHtml = hook.length ? `<p class="hook">Not in this EVAL.json: ${hook.join(' and ')}; the timeline shows what is there. <code>evaluate</code> fills these lanes once it writes them (docs/report.md, “Timeline”).</p>` : '';
  if (good.length === 0) return `${hookHtml}<p class="hook">No fault times either: no timeline to draw.</p>`;
  const lanes = [...(tl.states?.length ? ['state'] : []), 'fault', ...[...alarmLanes].sort()].filter((l) => good.some((s) => s.lane === l));
  const title = 'Runtime states, faults and alarms over time';
  const svg = await renderSvg(timelineSpec(good, { title, lanes }));
  return `${hookHtml}<figure class="chart">${inlineSvg(svg, chartId(), title)}<figcaption>${esc(faultNote)} Times in UTC.</figcaption></figure>`;
}

function rankCell(v: number | null | undefined): string {
  if (v === undefined) return '<td class="absent">—</td>';
  if (v === null) return '<td class="nm" title="the true answer was not ranked">unranked</td>';
  return `<td${v === 1 ? ' class="hit"' : ''}>${v}</td>`;
}

function casesHtml(r: ReportInput, protocol: string | undefined, max: number): string {
  const cases = headlineCases(r, protocol);
  if (cases.length === 0) return '<p class="hook">This EVAL.json has no per-case results (<code>cases</code>).</p>';
  const methods = methodsOf(r, protocol).filter((m) => cases.some((c) => c.ranks?.[m] !== undefined));
  const withPods = cases.some((c) => methods.some((m) => typeof c.ranks?.[m]?.pod === 'number'));
  const featured = ['evidence', 'tuned', ...methods].find((m) => cases.some((c) => c.top?.[m] || c.evidence?.[m]));
  const hasEvidence = cases.some((c) => c.evidence && Object.keys(c.evidence).length > 0);
  const head = `<tr><th class="l">case</th><th class="l">start (UTC)</th><th class="l">type</th><th class="l">root cause</th>${methods.map((m) => `<th title="rank of the true service${withPods ? ' / pod' : ''}">${esc(m)}</th>`).join('')}${featured ? `<th class="l">top suspects (${esc(featured)})</th>` : ''}</tr>`;
  const rows = cases.slice(0, max).map((c) => {
    const start = Number.isFinite(timeOf(c.start)) ? new Date(timeOf(c.start)).toISOString().slice(0, 16).replace('T', ' ') : '';
    const truth = [c.rootCauseService, c.rootCause].filter((x, i, a) => x && a.indexOf(x) === i);
    const ranks = methods
      .map((m) => {
        const rk = c.ranks?.[m];
        if (!withPods) return rankCell(rk?.service);
        const s = rk?.service;
        const p = rk?.pod;
        return `<td${s === 1 ? ' class="hit"' : ''}>${s === undefined ? '—' : s === null ? 'unranked' : s} / ${p === undefined ? '—' : p === null ? 'unranked' : p}</td>`;
      })
      .join('');
    let suspects = '';
    if (featured) {
      const ev = c.evidence?.[featured];
      const items = ev?.length
        ? ev.slice(0, 3).map((e) => `${truth.includes(e.suspect) ? `<span class="hit">${esc(e.suspect)}</span>` : esc(e.suspect)}${e.why ? `: ${esc(e.why)}` : ''}`)
        : (c.top?.[featured]?.services ?? []).slice(0, 3).map((s) => (truth.includes(s) ? `<span class="hit">${esc(s)}</span>` : esc(s)));
      suspects = `<td class="wrap">${items.length ? items.map((x, i) => `${i + 1}. ${x}`).join('<br>') : '<span class="absent">—</span>'}</td>`;
    }
    return `<tr><td class="l">${esc(c.id)}</td><td class="l">${esc(start)}</td><td class="l">${esc(c.type ?? '')}</td><td class="l">${esc(truth.join(' / '))}</td>${ranks}${suspects}</tr>`;
  });
  const notes = [
    `Rank of the true root cause${withPods ? ' (service / pod)' : ''} per method; 1 in bold green.`,
    cases.length > max ? `First ${max} of ${cases.length} cases shown.` : `${cases.length} cases.`,
    hasEvidence ? '' : 'The cases carry no evidence lines (<code>cases[].evidence</code>), so the top suspects are listed by name only.',
  ].filter(Boolean);
  return `<div class="chart"><table class="cases">${head}${rows.join('')}</table></div><p class="note">${notes.join(' ')}</p>`;
}

/** The whole page. Deterministic: the same EVAL.json and options give the same bytes. */
/** Where states helped: each tuned column against its global twin, measure by measure (issue 12). */
function statesHtml(r: ReportInput, protocol: string | undefined): string[] {
  if (protocol === undefined) return [];
  const effects = statesEffects(r.rows, protocol as EvalRow['protocol']);
  if (effects.length === 0) return [];
  const rows = effects
    .map((e) => `<tr class="${e.verdict}"><td class="l">${esc(e.method)}</td><td class="l">${esc(`${e.task} ${e.level}`)}</td><td class="l">${esc(e.metric)}</td><td>${pct(e.states)}</td><td>${pct(e.noStates)}</td><td>${e.delta > 0 ? '+' : ''}${pct(e.delta)}</td><td class="l">${e.verdict === 'helped' ? 'states helped' : e.verdict === 'cost' ? 'states cost' : 'same'}</td><td>${esc(e.n)}</td></tr>`)
    .join('');
  return [
    '<h2 id="states">States against no states</h2>',
    `<p class="note">${statesEffectSummary(effects).map(esc).join('<br>')}</p>`,
    `<table><thead><tr><th class="l">method</th><th class="l">task</th><th class="l">measure</th><th>with states</th><th>without (global)</th><th>difference</th><th class="l">verdict</th><th>n</th></tr></thead><tbody>${rows}</tbody></table>`,
  ];
}

export async function buildReportHtml(r: ReportInput, opts: ReportOptions = {}): Promise<string> {
  let charts = 0;
  const chartId = () => `c${++charts}-`;
  const protocols = protocolsOf(r);
  const head = protocols[0];
  const aiops = isAiops22(r);
  const p = r.protocol;
  const protocolLine = p
    ? `Protocol <b>${esc(p.name)}</b>: ${esc(p.folds)} folds over ${esc(p.groups)} groups, seed ${esc(p.seed)}${p.also?.length ? `; also reported: ${p.also.map(esc).join(', ')}` : ''}.`
    : `Protocol: ${esc(head ?? 'not named in the EVAL.json')}.`;
  const sections: string[] = [];
  sections.push(`<h1>RuntimeSlicer evaluation: ${esc(r.dataset)}</h1><p class="note">${protocolLine}${opts.source ? ` From <code>${esc(opts.source)}</code>` : ''} (schema ${esc(r.schemaVersion)}).</p>`);
  sections.push('<h2 id="table1">Table 1</h2>');
  for (const pr of protocols) {
    const t = table1(r, pr);
    if (pr !== head) sections.push(`<h3>${esc(pr ?? '')}</h3>`);
    sections.push(table1Html(pr === head || pr === 'authors-split' ? t : { ...t, paper: undefined }, aiops));
  }
  if (aiops && !protocols.includes('authors-split')) sections.push(`<p class="note">The paper's figures come from ${esc(PAPER_PROTOCOL)}; the table above is on a grouped protocol, where that leak is closed, so the two are not the same measurement.</p>`);
  sections.push(...statesHtml(r, head));
  sections.push('<h2 id="types">By fault type</h2>', await typeBarsHtml(r, head, chartId));
  sections.push('<h2 id="timeline">Timeline</h2>', await timelineHtml(r, head, chartId));
  sections.push('<h2 id="cases">Per-case rankings</h2>', casesHtml(r, head, opts.maxCases ?? 400));
  sections.push('<h2 id="embedding">Embedding</h2>');
  if (opts.embedding) sections.push(`<figure class="chart">${inlineSvg(opts.embedding.svg, chartId(), opts.embedding.title)}<figcaption>${esc(opts.embedding.caption ?? opts.embedding.title)}</figcaption></figure>`);
  else sections.push(`<p class="hook">${esc(opts.embeddingMissing ?? 'No embedding plot: pass --model and --data to `runtimeslicer report` to include the raw-backbone vs learned-embedding comparison.')}</p>`);
  if (r.notes?.length) sections.push('<h2 id="notes">Notes</h2>', `<ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>RuntimeSlicer report: ${esc(r.dataset)}</title><style>${CSS}</style></head>
<body>
${sections.join('\n')}
</body></html>
`;
}
