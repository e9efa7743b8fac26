/**
 * Vega-Lite specs to SVG (and PNG), headless: vega-lite compiles the spec, a vega View with the
 * 'none' renderer lays it out without a canvas or a browser, and `toSVG` serialises the scene.
 * The output depends only on the spec: vega writes no timestamps and the specs we build carry
 * their data inline, so the same spec gives the same bytes.
 */
import { existsSync } from 'node:fs';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';

export type { TopLevelSpec };

/**
 * Renders a Vega-Lite spec to a standalone SVG document. Text is measured by vega's estimate
 * (no canvas package), which is close enough for axis labels and titles.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile(spec).spec;
  // Loading is refused so that a spec never reaches the network or the disk: our data is inline.
  const loader = vega.loader();
  loader.load = async (uri: string) => {
    throw new Error(`plot: specs must carry their data inline (asked to load ${uri})`);
  };
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', loader, logLevel: vega.Warn });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Fonts resvg tries when the system offers them; text in a PNG needs one (SVG text does not). */
export const PNG_FONT_CANDIDATES: readonly string[] = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/TTF/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
];

export interface PngOptions {
  /** Pixel width of the PNG (default: the SVG's own width, times `scale`). */
  width?: number;
  /** Zoom factor when no width is given (default 2, for sharp text). */
  scale?: number;
  /** Font files for the text; default the first of PNG_FONT_CANDIDATES that exists, plus system fonts. */
  fontFiles?: string[];
}

/**
 * Rasterises an SVG to PNG with resvg. Without any font file on the machine the marks are drawn
 * and the text is left out (docs/report.md, "Fonts").
 */
export function svgToPng(svg: string, opts: PngOptions = {}): Buffer {
  const fontFiles = opts.fontFiles ?? PNG_FONT_CANDIDATES.filter((f) => existsSync(f)).slice(0, 1);
  const fitTo = opts.width !== undefined ? { mode: 'width' as const, value: opts.width } : { mode: 'zoom' as const, value: opts.scale ?? 2 };
  const r = new Resvg(svg, {
    fitTo,
    background: 'white',
    font: { loadSystemFonts: true, fontFiles, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return r.render().asPng();
}

export async function renderPng(spec: TopLevelSpec, opts: PngOptions = {}): Promise<Buffer> {
  return svgToPng(await renderSvg(spec), opts);
}

/**
 * Prefixes every id an SVG defines (vega's clip paths and gradients) and every reference to
 * one, so several SVGs inlined in one HTML page do not clip each other with a shared `clip1`.
 */
export function scopeSvgIds(svg: string, prefix: string): string {
  const ids = new Set<string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) ids.add(m[1]);
  if (ids.size === 0) return svg;
  return svg.replace(/(\sid=")([^"]+)(")|(url\(#)([^)]+)(\))|(href="#)([^"]+)(")/g, (all, a, id, c, u, uid, uc, h, hid, hc) => {
    if (a !== undefined) return ids.has(id) ? `${a}${prefix}${id}${c}` : all;
    if (u !== undefined) return ids.has(uid) ? `${u}${prefix}${uid}${uc}` : all;
    return ids.has(hid) ? `${h}${prefix}${hid}${hc}` : all;
  });
}

/** The SVG without its XML-document trappings, ready to sit inside an HTML body. */
export function inlineSvg(svg: string, prefix: string, label: string): string {
  const scoped = scopeSvgIds(svg.replace(/^<\?xml[^>]*>\s*/, ''), prefix);
  return scoped.replace(/^<svg\b/, `<svg role="img" aria-label="${escapeAttr(label)}"`);
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
