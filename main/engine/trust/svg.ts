/**
 * Static SVG charts of the trust reports (for the HTML export and the CLI): similarity against the number of
 * blocks randomized, one line per metric (mean over the inputs) with its min–max band and the verdict threshold;
 * and the deletion / insertion curves, one line per method (the random order dashed).
 */
import { METRIC_LABELS, SANITY_METRICS, THRESHOLDS, type FaithfulnessReport, type SanityReport } from './report.js';

export const METRIC_COLORS: Record<string, string> = { spearman: '#1f5fbf', spearman_abs: '#6a9fe0', ssim: '#d0701c', hog: '#2a9a4a' };
const METHOD_COLORS = ['#1f5fbf', '#d0701c', '#2a9a4a', '#b0306a', '#7a52c0', '#8a6d1c', '#1c8a8a', '#555555'];

export const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const n2 = (v: number) => (Math.round(v * 100) / 100).toString();

interface Frame { W: number; H: number; l: number; r: number; t: number; b: number }
const sx = (f: Frame, lo: number, hi: number) => (v: number) => f.l + ((v - lo) / (hi - lo || 1)) * (f.W - f.l - f.r);
const sy = (f: Frame, lo: number, hi: number) => (v: number) => f.H - f.b - ((v - lo) / (hi - lo || 1)) * (f.H - f.t - f.b);

function axisY(f: Frame, y: (v: number) => number, lo: number, hi: number, stepV: number, label: string): string {
  let s = '';
  for (let v = Math.ceil(lo / stepV) * stepV; v <= hi + 1e-9; v += stepV) {
    s += `<line x1="${f.l}" x2="${f.W - f.r}" y1="${n2(y(v))}" y2="${n2(y(v))}" stroke="#e3e3e3"/>`
      + `<text x="${f.l - 6}" y="${n2(y(v) + 4)}" text-anchor="end">${n2(v)}</text>`;
  }
  return s + `<text transform="translate(14 ${n2((f.t + f.H - f.b) / 2)}) rotate(-90)" text-anchor="middle">${esc(label)}</text>`;
}

/** similarity vs blocks randomized: x = 0 (original, similarity 1) … number of blocks */
export function sanitySvg(r: SanityReport, width = 760, height = 420): string {
  const f: Frame = { W: width, H: height, l: 56, r: 150, t: 34, b: 118 };
  const n = r.layers.length;
  let lo = 0;
  for (const l of r.layers) for (const k of SANITY_METRICS) if (l[k].min !== null) lo = Math.min(lo, l[k].min!);
  lo = Math.max(-1, Math.floor(lo * 5) / 5);
  const x = sx(f, 0, Math.max(1, n)), y = sy(f, lo, 1);
  let body = axisY(f, y, lo, 1, 0.2, 'similarity to the original map');
  body += `<line x1="${f.l}" x2="${f.W - f.r}" y1="${n2(y(THRESHOLDS.depends_below))}" y2="${n2(y(THRESHOLDS.depends_below))}" stroke="#c03030" stroke-dasharray="5 4"/>`
    + `<text x="${f.W - f.r - 4}" y="${n2(y(THRESHOLDS.depends_below) - 5)}" text-anchor="end" fill="#c03030">Spearman &lt; ${THRESHOLDS.depends_below}: depends on the weights</text>`;
  const names = ['original', ...r.layers.map((l) => l.name)];
  names.forEach((name, i) => {
    const short = name.length > 22 ? `…${name.slice(-21)}` : name;
    body += `<text transform="translate(${n2(x(i) + 4)} ${f.H - f.b + 12}) rotate(40)" text-anchor="start">${esc(short)}</text>`;
  });
  SANITY_METRICS.forEach((k, mi) => {
    const pts = r.layers.map((l, i) => ({ i: i + 1, m: l[k].mean, a: l[k].min, b: l[k].max })).filter((p) => p.m !== null);
    if (!pts.length) return;
    const c = METRIC_COLORS[k];
    const band = [`${n2(x(0))},${n2(y(1))}`, ...pts.map((p) => `${n2(x(p.i))},${n2(y(p.b!))}`), ...pts.slice().reverse().map((p) => `${n2(x(p.i))},${n2(y(p.a!))}`)];
    body += `<polygon points="${band.join(' ')}" fill="${c}" fill-opacity="0.1" stroke="none"/>`;
    const line = [`${n2(x(0))},${n2(y(1))}`, ...pts.map((p) => `${n2(x(p.i))},${n2(y(p.m!))}`)];
    body += `<polyline points="${line.join(' ')}" fill="none" stroke="${c}" stroke-width="2"/>`;
    body += pts.map((p) => `<circle cx="${n2(x(p.i))}" cy="${n2(y(p.m!))}" r="3" fill="${c}"/>`).join('');
    const ly = f.t + 8 + mi * 18;
    body += `<line x1="${f.W - f.r + 12}" x2="${f.W - f.r + 30}" y1="${ly}" y2="${ly}" stroke="${c}" stroke-width="2"/><text x="${f.W - f.r + 34}" y="${ly + 4}">${esc(METRIC_LABELS[k])}</text>`;
  });
  const title = `${r.method} · ${r.mode} randomization · ${r.model} · ${r.inputs.count} input${r.inputs.count === 1 ? '' : 's'} (band: min–max)`;
  return wrap(width, height, `<text x="${f.l}" y="18" font-weight="bold">${esc(title)}</text>${body}`
    + `<text x="${n2((f.l + f.W - f.r) / 2)}" y="${f.H - 6}" text-anchor="middle">blocks randomized (${r.mode === 'cascading' ? 'cumulative, from the logits' : 'one at a time'})</text>`);
}

/** deletion (left) and insertion (right) curves: probability of the explained class vs fraction of cells */
export function faithfulnessSvg(r: FaithfulnessReport, width = 760, height = 330): string {
  const half = width / 2;
  let body = `<text x="56" y="18" font-weight="bold">${esc(`deletion and insertion · ${r.model} · ${r.inputs.count} input${r.inputs.count === 1 ? '' : 's'} · baseline ${r.baseline.kind}`)}</text>`;
  (['deletion', 'insertion'] as const).forEach((curve, ci) => {
    const f: Frame = { W: half, H: height, l: 56, r: 12, t: 40, b: 90 };
    const off = ci * half;
    const x = sx(f, 0, 1), y = sy(f, 0, 1);
    let g = axisY(f, y, 0, 1, 0.2, 'class probability');
    for (const v of [0, 0.5, 1]) g += `<text x="${n2(x(v))}" y="${f.H - f.b + 16}" text-anchor="middle">${v}</text>`;
    g += `<text x="${n2((f.l + f.W - f.r) / 2)}" y="${f.H - f.b + 32}" text-anchor="middle">fraction of cells ${curve === 'deletion' ? 'removed' : 'inserted'}</text>`;
    r.methods.forEach((m, mi) => {
      const c = m.method === 'random' ? '#888888' : METHOD_COLORS[mi % METHOD_COLORS.length];
      const pts = m[curve].mean.map((v, k) => `${n2(x(r.x[k]))},${n2(y(v))}`).join(' ');
      g += `<polyline points="${pts}" fill="none" stroke="${c}" stroke-width="2"${m.method === 'random' ? ' stroke-dasharray="5 4"' : ''}/>`;
      const auc = m[curve].auc.mean;
      g += `<text x="${f.l + (mi % 2) * 170}" y="${f.H - f.b + 50 + Math.floor(mi / 2) * 15}" fill="${c}">${esc(m.method)}: AUC ${auc === null ? '–' : auc.toFixed(3)}</text>`;
    });
    body += `<g transform="translate(${off} 0)"><text x="${f.l}" y="${f.t - 8}" font-weight="bold">${curve}</text>${g}</g>`;
  });
  return wrap(width, height, body);
}

function wrap(w: number, h: number, inner: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="DejaVu Sans, Arial, sans-serif" font-size="11" fill="#222">`
    + `<rect width="${w}" height="${h}" fill="#fff"/>${inner}</svg>`;
}
