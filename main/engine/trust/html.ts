/** A self-contained HTML report (inline SVG, no scripts or external files) a user can attach to a paper. */
import { METRIC_LABELS, SANITY_METRICS, type FaithfulnessReport, type MetricSummary, type SanityReport } from './report.js';
import { esc, faithfulnessSvg, sanitySvg } from './svg.js';

const fmt = (s: MetricSummary) => (s.mean === null ? '–' : `${s.mean.toFixed(3)} ± ${s.std!.toFixed(3)}`);

function sanitySection(r: SanityReport): string {
  const head = SANITY_METRICS.map((k) => `<th>${esc(METRIC_LABELS[k])}</th>`).join('');
  const rows = r.layers.map((l, i) => `<tr><td>${i + 1}</td><td><code>${esc(l.name)}</code></td><td>${l.params.toLocaleString('en-US')}</td>${SANITY_METRICS.map((k) => `<td>${fmt(l[k])}</td>`).join('')}</tr>`).join('');
  return `<h2>Model parameter randomization: ${esc(r.method)}, ${esc(r.mode)}</h2>
<p class="verdict ${esc(r.outcome)}">${esc(r.verdict)}</p>
${sanitySvg(r)}
<table><thead><tr><th>#</th><th>block randomized</th><th>parameters</th>${head}</tr></thead><tbody>${rows}</tbody></table>
<p class="note">Values: mean ± standard deviation over the ${r.inputs.count} input(s). Layer explained: <code>${esc(r.layer)}</code>; seed ${r.seed};
randomization: ${esc(r.randomization.description)}; BatchNorm: ${esc(r.randomization.batchnorm)}. Metrics: ${esc(r.metrics)}.
Method: Adebayo et al., "Sanity Checks for Saliency Maps", NeurIPS 2018.</p>`;
}

function faithSection(r: FaithfulnessReport): string {
  const rows = r.methods.map((m) => `<tr><td>${esc(m.method)}</td><td>${m.cells.join(' × ')}</td><td>${fmt(m.deletion.auc)}</td><td>${fmt(m.insertion.auc)}</td></tr>`).join('');
  return `<h2>Faithfulness: deletion and insertion</h2>
<p class="verdict">${esc(r.verdict)}</p>
${faithfulnessSvg(r)}
<table><thead><tr><th>method</th><th>cells</th><th>deletion AUC (lower is better)</th><th>insertion AUC (higher is better)</th></tr></thead><tbody>${rows}</tbody></table>
<p class="note">${r.steps} steps; baseline: ${esc(r.baseline.description)}; the class probability tracked is the softmax of the explained class.
Method: Petsiuk et al., "RISE", BMVC 2018.</p>`;
}

export function reportHtml(parts: { sanity?: SanityReport[]; faithfulness?: FaithfulnessReport | null; title?: string }): string {
  const sanity = parts.sanity ?? [];
  const first = sanity[0] ?? parts.faithfulness;
  const model = first?.model ?? '';
  const inputs = first?.inputs.names ?? [];
  const classes = first?.classes ?? [];
  const data = JSON.stringify({ sanity, faithfulness: parts.faithfulness ?? null }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(parts.title ?? `Glassbox trust report: ${model}`)}</title>
<style>body{font:14px/1.45 "DejaVu Sans",Arial,sans-serif;max-width:880px;margin:24px auto;color:#222;padding:0 12px}
table{border-collapse:collapse;margin:8px 0;font-size:12px}td,th{border:1px solid #ccc;padding:3px 7px;text-align:left}
.verdict{font-weight:bold;padding:6px 10px;background:#f4f4f4;border-left:4px solid #888}.verdict.depends{border-color:#2a9a4a}
.verdict.does-not-depend{border-color:#c03030}.verdict.partial{border-color:#d0a01c}.note{color:#555;font-size:12px}svg{max-width:100%;height:auto}</style></head>
<body><h1>${esc(parts.title ?? 'Glassbox trust report')}</h1>
<p>Model <code>${esc(model)}</code>; ${inputs.length} input(s): ${inputs.map((n, i) => `${esc(n)} (class ${classes[i]?.name ? esc(classes[i].name!) : classes[i]?.index ?? '?'})`).join(', ')}.</p>
${sanity.map(sanitySection).join('\n')}
${parts.faithfulness ? faithSection(parts.faithfulness) : ''}
<script type="application/json" id="report-data">${data}</script>
</body></html>
`;
}
