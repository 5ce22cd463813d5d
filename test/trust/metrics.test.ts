/**
 * The similarity metrics against their reference implementations, computed by /usr/bin/python3 on the same
 * numbers: scipy.stats.spearmanr, skimage.metrics.structural_similarity (uniform 7×7 window or smaller,
 * data_range 1), skimage.feature.hog (9 orientations, 3×3-cell blocks, L2-Hys). Maps with ties, small maps and a
 * saliency-sized one. Skips (CI: fails) without scipy / scikit-image.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hog, hogCell, normalise01, similarity, spearman, ssim, ssimWindow } from '../../main/engine/trust/metrics.js';
import { PYTHON } from '../helpers/paths.js';
import { rng } from '../helpers/rng.js';

const probe = spawnSync(PYTHON, ['-c', 'import scipy, skimage'], { encoding: 'utf8' });
const SKIP = probe.status === 0 ? false : `${PYTHON} lacks scipy / scikit-image (apt: python3-scipy python3-skimage): reference comparison skipped`;

interface Case { h: number; w: number; a: number[]; b: number[] }

function smooth(h: number, w: number, r: () => number, quant = 0): number[] {
  const cx = r() * w, cy = r() * h, s = 2 + r() * Math.max(h, w) / 3;
  return Array.from({ length: h * w }, (_, i) => {
    const y = Math.floor(i / w), x = i % w;
    let v = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s * s)) + 0.3 * (r() - 0.5);
    if (quant) v = Math.round(v * quant) / quant; // ties
    return v;
  });
}

function cases(): Case[] {
  const r = rng(11);
  const sizes: Array<[number, number, number]> = [[28, 28, 0], [28, 28, 4], [7, 7, 0], [9, 13, 3], [5, 6, 0], [40, 33, 0]];
  return sizes.map(([h, w, q]) => ({ h, w, a: smooth(h, w, r, q), b: smooth(h, w, r, q) }));
}

const PY = `
import json, sys, numpy as np
from scipy.stats import spearmanr
from skimage.metrics import structural_similarity
from skimage.feature import hog
out = []
for c in json.load(sys.stdin):
    h, w = c['h'], c['w']
    a = np.array(c['a'], dtype=np.float64).reshape(h, w); b = np.array(c['b'], dtype=np.float64).reshape(h, w)
    na = (a - a.min()) / (a.max() - a.min()); nb = (b - b.min()) / (b.max() - b.min())
    r = {'spearman': float(spearmanr(a.ravel(), b.ravel()).correlation)}
    if c['win']: r['ssim'] = float(structural_similarity(na, nb, win_size=c['win'], data_range=1.0))
    if c['cell']:
        r['hog_a'] = hog(na, pixels_per_cell=(c['cell'], c['cell']), cells_per_block=(3, 3)).tolist()
    out.append(r)
print(json.dumps(out))
`;

test('Spearman, SSIM and HOG equal scipy / scikit-image on the same maps', { skip: SKIP }, () => {
  const cs = cases();
  const req = cs.map((c) => {
    const cell = hogCell(c.h, c.w);
    return { ...c, win: ssimWindow(c.h, c.w), cell: cell && Math.floor(c.h / cell) >= 3 && Math.floor(c.w / cell) >= 3 ? cell : null };
  });
  const r = spawnSync(PYTHON, ['-W', 'ignore', '-c', PY], { input: JSON.stringify(req), encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr);
  const ref = JSON.parse(r.stdout) as Array<{ spearman: number; ssim?: number; hog_a?: number[] }>;
  let hogs = 0;
  cs.forEach((c, i) => {
    const tag = `${c.h}×${c.w} case ${i}`;
    assert.ok(Math.abs(spearman(c.a, c.b) - ref[i].spearman) < 1e-12, `${tag}: spearman ${spearman(c.a, c.b)} vs ${ref[i].spearman}`);
    const na = normalise01(c.a), nb = normalise01(c.b);
    if (req[i].win) assert.ok(Math.abs(ssim(na, nb, c.h, c.w)! - ref[i].ssim!) < 1e-9, `${tag}: ssim ${ssim(na, nb, c.h, c.w)} vs ${ref[i].ssim}`);
    if (req[i].cell) {
      const ours = hog(na, c.h, c.w)!;
      assert.equal(ours.length, ref[i].hog_a!.length, `${tag}: hog length`);
      let err = 0;
      for (let k = 0; k < ours.length; k++) err = Math.max(err, Math.abs(ours[k] - ref[i].hog_a![k]));
      assert.ok(err < 1e-5, `${tag}: hog max error ${err}`);
      hogs++;
    }
  });
  assert.ok(hogs >= 3, 'HOG compared on at least three maps');
});

test('similarity of a map with itself is 1; constant maps follow the null / 0 convention', () => {
  const c = cases()[0];
  const self = similarity({ a: c.a, b: c.a, h: c.h, w: c.w });
  assert.deepEqual(self, { spearman: 1, spearman_abs: 1, ssim: 1, hog: 1 });
  const zero = new Array(c.a.length).fill(0);
  const gone = similarity({ a: c.a, b: zero, h: c.h, w: c.w });
  assert.equal(gone.spearman, 0);
  assert.equal(gone.spearman_abs, 0);
  const none = similarity({ a: zero, b: c.b, h: c.h, w: c.w });
  assert.deepEqual(none, { spearman: null, spearman_abs: null, ssim: null, hog: null });
  // an order-preserving rescale keeps the ranking, a reversal inverts it
  assert.equal(spearman(c.a, c.a.map((v) => 3 * v + 1)), 1);
  assert.ok(Math.abs(spearman(c.a, c.a.map((v) => -v)) + 1) < 1e-12);
  // too small for SSIM / HOG: null, not a made-up number
  assert.equal(ssim([1, 2, 3, 4], [1, 2, 3, 4], 2, 2), null);
  assert.equal(hog([1, 2, 3, 4], 2, 2), null);
});
