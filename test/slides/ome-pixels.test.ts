/**
 * OME-TIFF pixel reference: our readRegion on 2048x2048_ome6_tiled.ome.tif (3 uint16 channels, one IFD per
 * channel, level 1 in SubIFDs; OpenSlide cannot open it) against an independent decode by libvips
 * (`vips extract_area file.tif[page=C(,subifd=0)]` -> `vips rawsave`, native-endian uint16), with the
 * composite mapping re-implemented here from its definition: each channel's display range = min..max of that
 * channel over the smallest level, v -> clamp((v - lo) / (hi - lo), 0, 1) × colour, summed, rounded.
 * Tolerance: ≤ 1/255 per sample (float32 accumulation in the engine vs float64 here).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSlide } from '../../main/engine/slide/index.js';
import { CACHE_DIR, SHARED_SLIDES, SKIP_NO_SLIDES } from '../helpers/paths.js';

const FILE = join(SHARED_SLIDES, '2048x2048_ome6_tiled.ome.tif');
const HAVE_VIPS = spawnSync('vips', ['--version']).status === 0;
const skip = SKIP_NO_SLIDES || (HAVE_VIPS ? false : 'vips not installed: OME-TIFF pixel reference skipped');

/** One channel plane of one level, decoded by libvips, as uint16 samples. */
function vipsPlane(channel: number, level: 0 | 1, w: number, h: number): Uint16Array {
  const dir = join(CACHE_DIR, 'ome-ref');
  mkdirSync(dir, { recursive: true });
  const src = `${FILE}[page=${channel}${level === 1 ? ',subifd=0' : ''}]`;
  const v = join(dir, `c${channel}-l${level}.v`), raw = join(dir, `c${channel}-l${level}.raw`);
  for (const args of [['extract_area', src, v, '0', '0', String(w), String(h)], ['rawsave', v, raw]]) {
    const r = spawnSync('vips', args, { encoding: 'utf8' });
    assert.equal(r.status, 0, `vips ${args.join(' ')}: ${r.stderr}`);
  }
  const b = readFileSync(raw);
  assert.equal(b.length, w * h * 2, 'raw size');
  const out = new Uint16Array(w * h);
  for (let i = 0; i < out.length; i++) out[i] = b.readUInt16LE(i * 2); // vips writes native (x86: little-endian) order
  return out;
}

test('OME-TIFF: readRegion at levels 0 and 1 matches libvips-decoded samples through the composite mapping', { skip }, async (t) => {
  const s = await openSlide(FILE);
  try {
    assert.equal(s.properties.levels.length, 2);
    const l1 = [0, 1, 2].map((c) => vipsPlane(c, 1, 1024, 1024));
    // display ranges: min..max of each channel over the smallest level (computed here, then checked against
    // what the engine states it used)
    const ranges = l1.map((p) => { let lo = Infinity, hi = -Infinity; for (const v of p) { if (v < lo) lo = v; if (v > hi) hi = v; } return [lo, hi] as const; });
    const colors = [[255, 0, 0], [0, 255, 0], [0, 0, 255]]; // no OME Channel Color: R, G, B
    ranges.forEach(([lo, hi], c) => {
      assert.equal(s.properties.raw[`glassbox.channel[${c}].range`], `${lo}..${hi}`);
      assert.equal(s.properties.raw[`glassbox.channel[${c}].color`], '#' + colors[c].map((x) => x.toString(16).padStart(2, '0')).join(''));
    });
    for (const level of [0, 1] as const) {
      const w = level === 0 ? 2048 : 1024, h = w;
      const planes = level === 1 ? l1 : [0, 1, 2].map((c) => vipsPlane(c, 0, w, h));
      const r = await s.readRegion(0, 0, level, w, h);
      assert.equal(r.width, w); assert.equal(r.height, h);
      let maxDiff = 0, diffs = 0, nonzero = 0;
      for (let i = 0; i < w * h; i++) {
        for (let k = 0; k < 3; k++) {
          let acc = 0;
          for (let c = 0; c < 3; c++) {
            const [lo, hi] = ranges[c];
            const v = Math.min(1, Math.max(0, (planes[c][i] - lo) / (hi - lo)));
            acc += v * colors[c][k];
          }
          const want = Math.min(255, Math.round(acc));
          const d = Math.abs(r.data[i * 3 + k] - want);
          if (d > maxDiff) maxDiff = d;
          if (d > 0) diffs++;
          if (want > 0) nonzero++;
        }
      }
      t.diagnostic(`level ${level}: ${nonzero} of ${w * h * 3} reference samples non-zero; max diff ${maxDiff}, ${diffs} samples differ`);
      assert.ok(nonzero > w * h * 0.05, `level ${level}: reference is (nearly) blank`);
      assert.ok(maxDiff <= 1, `level ${level}: max |ours - reference| = ${maxDiff}/255 (tolerance 1)`);
      assert.ok(diffs <= w * h * 3 * 0.001, `level ${level}: ${diffs} samples differ by 1 (rounding only expected)`);
    }
  } finally { await s.close(); }
});
