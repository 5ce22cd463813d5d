/**
 * Inputs for the trust tests: 224-px H&E-like patches of the synthetic slide's 'he-demo' layout (cellular
 * and stromal textures, their borders and glass), preprocessed with the shipped model's config — generated, so
 * the tests need nothing from ../shared.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyTransforms, parseModelConfig } from '../../main/engine/model/index.js';
import type { Tensor } from '../../main/engine/explain/types.js';
import { expectedRegion, presetRegions, type SyntheticSpec } from '../fixtures/synthetic-slide.js';
import { REPO_ROOT } from '../helpers/paths.js';

export const SHIPPED_DIR = join(REPO_ROOT, 'models', 'he-cellularity');
export const SHIPPED_MODEL = join(SHIPPED_DIR, 'model.onnx');

const SIZE = 2000;
export const SPEC: SyntheticSpec = { width: SIZE, height: SIZE, mpp: 0.5, regions: presetRegions('he-demo', SIZE, SIZE) };

/** level-0 top-left corners of the patches: mixed tissue borders, cellular, stroma */
export const PATCH_ORIGINS: Array<[number, number]> = [[300, 250], [1200, 300], [500, 1150], [1350, 1100], [180, 520], [1050, 700]];

export function shippedPatches(count = PATCH_ORIGINS.length): { input: Tensor; names: string[] } {
  const cfg = parseModelConfig(JSON.parse(readFileSync(join(SHIPPED_DIR, 'config.json'), 'utf8')));
  const P = cfg.patch_size_pixels;
  const items = PATCH_ORIGINS.slice(0, count).map(([x, y]) => applyTransforms({ data: expectedRegion(SPEC, 1, x, y, P, P), width: P, height: P }, cfg.transform));
  const plane = items[0].data.length;
  const data = new Float32Array(items.length * plane);
  items.forEach((t, i) => data.set(t.data, i * plane));
  return { input: { data, dims: [items.length, 3, P, P] }, names: PATCH_ORIGINS.slice(0, count).map(([x, y]) => `he-demo (${x}, ${y})`) };
}
