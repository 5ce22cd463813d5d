/**
 * report.json of the trust tools: the randomization check (`glassbox sanity`) and the deletion / insertion curves
 * (`glassbox faithfulness`), plus the plain verdict lines. No timestamps and rounded numbers: the same seed gives
 * a byte-identical file.
 */
import type { Family } from './randomize.js';

export const SANITY_METRICS = ['spearman', 'spearman_abs', 'ssim', 'hog'] as const;
export type SanityMetric = (typeof SANITY_METRICS)[number];
export const METRIC_LABELS: Record<SanityMetric, string> = {
  spearman: 'Spearman', spearman_abs: 'Spearman |map|', ssim: 'SSIM', hog: 'HOG correlation',
};

/**
 * Verdict thresholds on the mean Spearman rank correlation with the original map: below DEPENDS the map has lost
 * its ranking (it depends on the randomized weights); still at or above SURVIVES once every block is randomized,
 * it does not depend on them (an edge detector's behaviour). In between: partial.
 */
export const THRESHOLDS = { depends_below: 0.3, survives_at_or_above: 0.5 } as const;

export interface MetricSummary {
  /** one value per input (null: undefined for that input, e.g. the original map is constant) */
  per_input: Array<number | null>;
  /** over the inputs with a value; null when none has one */
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
}

export interface LayerResult {
  /** the block randomized at this step (cascading: it and every block listed before it) */
  name: string;
  /** parameter values re-drawn in this block */
  params: number;
  tensors: number;
  spearman: MetricSummary;
  spearman_abs: MetricSummary;
  ssim: MetricSummary;
  hog: MetricSummary;
}

export type Outcome = 'depends' | 'partial' | 'does-not-depend' | 'undetermined';

export interface SanityReport {
  kind: 'glassbox-sanity';
  version: 1;
  model: string;
  /** the explained tensor ('input' for saliency and the edge control) */
  layer: string;
  method: string;
  mode: 'cascading' | 'independent';
  seed: number;
  /** scope depth of the blocks (null: one block per layer) */
  block_depth: number | null;
  inputs: { count: number; names: string[] };
  /** the class explained per input (the original model's prediction unless one was asked for) */
  classes: Array<{ index: number; name: string | null }>;
  randomization: { family: Family; batchnorm: string; description: string };
  metrics: string;
  /** in the order randomized (logits first) */
  layers: LayerResult[];
  thresholds: typeof THRESHOLDS;
  outcome: Outcome;
  verdict: string;
}

export interface CurveSummary {
  /** mean probability of the explained class at each step, x = steps[i] */
  mean: number[];
  /** area under the curve (trapezoid over the fraction 0…1), per input and mean */
  auc: MetricSummary;
}

export interface FaithfulnessMethod {
  method: string;
  layer: string;
  /** map cells (the unit removed / inserted) */
  cells: [number, number];
  deletion: CurveSummary;
  insertion: CurveSummary;
}

export interface FaithfulnessReport {
  kind: 'glassbox-faithfulness';
  version: 1;
  model: string;
  seed: number;
  inputs: { count: number; names: string[] };
  classes: Array<{ index: number; name: string | null }>;
  /** 'blur' (Gaussian, σ in input px) or 'mean' (each channel's mean over the patch) */
  baseline: { kind: 'blur' | 'mean'; sigma_px: number | null; description: string };
  steps: number;
  /** fraction of cells removed (deletion) / inserted (insertion) at each point */
  x: number[];
  /** one entry per method, plus 'random' (cells in a seeded random order): the reference a map must beat */
  methods: FaithfulnessMethod[];
  verdict: string;
}

/** an AUC within this of the random order's does not count as better (curves of a class the model never predicts are all ≈ 0) */
export const AUC_MARGIN = 0.005;

export const round6 = (v: number) => Math.round(v * 1e6) / 1e6 + 0; // + 0: no -0 in the JSON

export function summarize(values: Array<number | null>): MetricSummary {
  const per = values.map((v) => (v === null || !Number.isFinite(v) ? null : round6(v)));
  const ok = per.filter((v): v is number => v !== null);
  if (!ok.length) return { per_input: per, mean: null, std: null, min: null, max: null };
  const mean = ok.reduce((a, b) => a + b, 0) / ok.length;
  const std = Math.sqrt(ok.reduce((a, b) => a + (b - mean) ** 2, 0) / ok.length);
  return { per_input: per, mean: round6(mean), std: round6(std), min: Math.min(...ok), max: Math.max(...ok) };
}

/** two decimals, rounded down: a value below a threshold never prints as the threshold (0.2997 → 0.29) */
const f2 = (v: number) => (Math.floor(v * 100 + 1e-9) / 100).toFixed(2);
const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

/** the plain verdict line and its outcome, from the per-block mean Spearman */
export function sanityVerdict(mode: SanityReport['mode'], layers: LayerResult[]): { outcome: Outcome; verdict: string } {
  const t = THRESHOLDS;
  const rule = `(thresholds: mean Spearman < ${t.depends_below} = depends on the weights; ≥ ${t.survives_at_or_above} after ${mode === 'cascading' ? 'all blocks' : 'every block'} = does not)`;
  const sp = layers.map((l) => l.spearman.mean);
  if (!layers.length || sp.every((v) => v === null)) return { outcome: 'undetermined', verdict: `No verdict: no input had a non-constant map to compare ${rule}` };
  const vals = sp.map((v) => v ?? NaN);
  if (mode === 'cascading') {
    const k = vals.findIndex((v) => v < t.depends_below);
    const last = vals[vals.length - 1];
    if (k >= 0) {
      const min = Math.min(...vals.filter(Number.isFinite));
      return { outcome: 'depends', verdict: `Spearman fell to ${f2(vals[k])} after randomizing ${plural(k + 1, 'block')} (${layers[k].name}${k ? ' and above' : ''}; lowest ${f2(min)}): the map depends on the learned weights ${rule}` };
    }
    if (last >= t.survives_at_or_above) return { outcome: 'does-not-depend', verdict: `Spearman stayed at ${f2(last)} with all ${plural(layers.length, 'block')} randomized: the map does NOT depend on the learned weights — it behaves like an edge detector ${rule}` };
    return { outcome: 'partial', verdict: `Spearman fell only to ${f2(Math.min(...vals.filter(Number.isFinite)))} with all ${plural(layers.length, 'block')} randomized: the map depends on the weights only partly ${rule}` };
  }
  const fin = vals.map((v, i) => [v, i] as const).filter(([v]) => Number.isFinite(v));
  const [min, at] = fin.reduce((a, b) => (b[0] < a[0] ? b : a));
  const below = fin.filter(([v]) => v < t.depends_below).length;
  if (below > 0) return { outcome: 'depends', verdict: `Randomizing one block alone drops Spearman below ${t.depends_below} for ${plural(below, 'block')} of ${layers.length} (lowest ${f2(min)}, ${layers[at].name}): the map depends on the learned weights ${rule}` };
  if (min >= t.survives_at_or_above) return { outcome: 'does-not-depend', verdict: `Spearman stayed ≥ ${f2(min)} whichever single block was randomized: the map does NOT depend on any one block's weights ${rule}` };
  return { outcome: 'partial', verdict: `Randomizing single blocks lowers Spearman to ${f2(min)} at most (${layers[at].name}): partial dependence ${rule}` };
}

export function faithfulnessVerdict(methods: FaithfulnessMethod[]): string {
  const rand = methods.find((m) => m.method === 'random');
  const lines = methods.filter((m) => m.method !== 'random').map((m) => {
    const d = m.deletion.auc.mean, i = m.insertion.auc.mean;
    if (d === null || i === null) return `${m.method}: no curves`;
    const rd = rand?.deletion.auc.mean ?? null, ri = rand?.insertion.auc.mean ?? null;
    const better = rd !== null && ri !== null ? Number(d < rd - AUC_MARGIN) + Number(i > ri + AUC_MARGIN) : -1;
    const vs = better < 0 ? '' : ['does not beat the random order', 'beats the random order on one curve', 'beats the random order on both curves'][better];
    return `${m.method}: deletion AUC ${f2(d)}, insertion AUC ${f2(i)}${vs ? ` — ${vs}` : ''}`;
  });
  const ref = rand && rand.deletion.auc.mean !== null ? ` (random order: deletion ${f2(rand.deletion.auc.mean)}, insertion ${f2(rand.insertion.auc.mean!)}; lower deletion and higher insertion AUC = more faithful; "beats" = by more than ${AUC_MARGIN})` : '';
  return lines.join('; ') + ref;
}
