/**
 * DICOM VL Whole Slide Microscopy files in ../shared/slides (see SOURCES.md): every one opens (a folder or any file
 * of a series), with the levels, tile grids, mpp and associated images SOURCES.md lists, and pixels checked against
 * independent decoders: the wsi2dcm series against the SVS it was converted from and against Pillow decoding the
 * same frames, the YBR_FULL_422 CAMELYON frame against sharp decoding the hand-extracted frame, sm_image's native
 * pixels against a hand parse. (Deep Zoom through the service: dicom-service.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { PYTHON, SHARED_SLIDES, SKIP_NO_SLIDES } from '../helpers/paths.js';
import { openSlide, SlideError, type Slide } from '../../main/engine/slide/index.js';
import { handParsePixelData } from './dicom-writer.js';

const WSI2DCM = join(SHARED_SLIDES, 'CMU-1-Small-Region.wsi2dcm');
const CAMELYON = join(SHARED_SLIDES, 'multiframe_camelyon_challenge_image.dcm');
const SM = join(SHARED_SLIDES, 'sm_image.dcm');

/** SOURCES.md: 12 levels; 500×500 frames on levels 0–2, one frame the size of the level on 3–11 */
const WSI2DCM_LEVELS: Array<[number, number]> = [[2220, 2967], [1110, 1483], [555, 741], [277, 370], [138, 185], [69, 92], [34, 46], [17, 23], [8, 11], [4, 5], [2, 2], [1, 1]];

function fragments(file: string): Uint8Array[] {
  const p = handParsePixelData(readFileSync(file));
  assert.ok('fragments' in p, `${file}: encapsulated`);
  return p.fragments;
}

async function withSlide<T>(path: string, f: (s: Slide) => Promise<T>): Promise<T> {
  const s = await openSlide(path);
  try { return await f(s); } finally { await s.close(); }
}

const meanAbs = (a: Uint8Array, b: Uint8Array): number => {
  assert.equal(a.length, b.length);
  let t = 0;
  for (let i = 0; i < a.length; i++) t += Math.abs(a[i] - b[i]);
  return t / a.length;
};

test('dicom: the wsi2dcm series opens from its folder and from each of its 12 files, with SOURCES.md\'s levels', { skip: SKIP_NO_SLIDES }, async () => {
  const files = readdirSync(WSI2DCM).filter((f) => f.endsWith('.dcm')).sort();
  assert.equal(files.length, 12);
  for (const p of [WSI2DCM, ...files.map((f) => join(WSI2DCM, f))]) {
    await withSlide(p, async (s) => {
      const pr = s.properties;
      assert.equal(pr.format, 'dicom', p);
      assert.equal(pr.vendor, 'dicom');
      assert.deepEqual(pr.levels.map((l) => [l.width, l.height]), WSI2DCM_LEVELS, p);
      assert.deepEqual(pr.levels.map((l) => [l.tileWidth, l.tileHeight]), WSI2DCM_LEVELS.map(([w, h], i) => (i <= 2 ? [500, 500] : [w, h])));
      assert.deepEqual(pr.levels.slice(0, 3).map((l) => Math.ceil(l.width / l.tileWidth) * Math.ceil(l.height / l.tileHeight)), [30, 9, 4]);
      assert.equal(pr.levels[1].downsample, (2220 / 1110 + 2967 / 1483) / 2);
      assert.deepEqual(pr.mpp, { x: 0.499, y: 0.499, source: 'vendor' });
      assert.equal(pr.objectivePower, null, 'no OpticalPathSequence, so no objective');
      assert.deepEqual(pr.associatedImages, []);
      assert.equal(pr.compression, 'jpeg');
      assert.equal(pr.raw['dicom.SeriesDescription'], 'x');
      assert.equal(pr.raw['dicom.TransferSyntaxUID'], '1.2.840.10008.1.2.4.50');
      assert.equal(pr.raw['dicom.level[0].file'], 'level-0-frames-0-30.dcm');
      // the files the slide reads, in level order: its content identity (analysis cache, annotations)
      assert.deepEqual(s.files?.map((f) => f.slice(WSI2DCM.length + 1)), WSI2DCM_LEVELS.map((_, i) => files.find((f) => f.startsWith(`level-${i}-`))));
      assert.deepEqual(pr.warnings, []);
    });
  }
});

test('dicom: wsi2dcm level 0 equals Pillow\'s decoding of the same frames and is the SVS it was converted from, re-encoded', { skip: SKIP_NO_SLIDES }, async () => {
  const W = 2220, H = 2967;
  const dcm = await withSlide(WSI2DCM, (s) => s.readRegion(0, 0, 0, W, H));
  const svs = await withSlide(join(SHARED_SLIDES, 'CMU-1-Small-Region.svs'), (s) => s.readRegion(0, 0, 0, W, H));
  // Pillow (libjpeg) decodes the hand-extracted frames: an independent reader of the same data
  const tmp = mkdtempSync(join(tmpdir(), 'gbx-dcm-'));
  try {
    const script = [
      'import io, sys, numpy as np', 'from PIL import Image',
      'frames = [open(f, "rb").read() for f in sys.argv[2:]]', 'W, H = 2220, 2967', 'out = np.zeros((H, W, 3), np.uint8)',
      'for k, b in enumerate(frames):',
      '    r, c = divmod(k, 5); im = np.asarray(Image.open(io.BytesIO(b)).convert("RGB"))',
      '    h = min(500, H - r * 500); w = min(500, W - c * 500); out[r*500:r*500+h, c*500:c*500+w] = im[:h, :w]',
      'open(sys.argv[1], "wb").write(out.tobytes())',
    ].join('\n');
    const fr = fragments(join(WSI2DCM, 'level-0-frames-0-30.dcm'));
    assert.equal(fr.length, 30);
    const paths = fr.map((b, i) => { const p = join(tmp, `f${i}.jpg`); writeFileSync(p, b); return p; });
    const out = join(tmp, 'pil.rgb');
    const r = spawnSync(PYTHON, ['-c', script, out, ...paths], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, `Pillow reference failed: ${r.stderr || r.error}`);
    const pil = new Uint8Array(readFileSync(out));
    const vsPil = meanAbs(dcm.data, pil);
    const vsSvs = meanAbs(dcm.data, svs.data);
    const pilVsSvs = meanAbs(pil, svs.data);
    console.log(`wsi2dcm level 0: mean |Δ| vs Pillow ${vsPil.toFixed(4)}, vs the SVS ${vsSvs.toFixed(4)} (Pillow vs the SVS ${pilVsSvs.toFixed(4)})`);
    assert.ok(vsPil <= 0.05, `our decode matches Pillow's (mean |Δ| ${vsPil})`);
    // the conversion's own loss (4:2:0 re-encode), as an independent decoder measures it; ours adds nothing
    assert.ok(Math.abs(vsSvs - pilVsSvs) <= 0.05, `vs the SVS: ours ${vsSvs}, Pillow's ${pilVsSvs}`);
    assert.ok(vsSvs <= 3.5, `mean |Δ| to the SVS ${vsSvs} (/255)`);
    for (let c = 0; c < 3; c++) {
      let d = 0;
      for (let i = c; i < dcm.data.length; i += 3) d += dcm.data[i] - svs.data[i];
      assert.ok(Math.abs(d / (W * H)) < 0.5, `channel ${c}: no colour shift (mean Δ ${d / (W * H)})`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('dicom: JPEG frames pass through byte for byte (wsi2dcm level 0 frame 7, CAMELYON frame 1)', { skip: SKIP_NO_SLIDES }, async () => {
  await withSlide(WSI2DCM, async (s) => {
    const e = await s.readEncodedTile(0, 1, 1);
    assert.ok(e);
    assert.deepEqual(Buffer.from(e.bytes), Buffer.from(fragments(join(WSI2DCM, 'level-0-frames-0-30.dcm'))[5 + 1]));
    assert.deepEqual([e.width, e.height], [500, 500]);
  });
  await withSlide(CAMELYON, async (s) => {
    const e = await s.readEncodedTile(0, 0, 0);
    assert.ok(e);
    assert.deepEqual(Buffer.from(e.bytes), Buffer.from(fragments(CAMELYON)[0]));
  });
});

test('dicom: the CAMELYON YBR_FULL_422 image: one level, 5×3 frames of 256, mpp 28.97, colours as sharp decodes the frame', { skip: SKIP_NO_SLIDES }, async () => {
  await withSlide(CAMELYON, async (s) => {
    const pr = s.properties;
    assert.deepEqual(pr.levels.map((l) => [l.width, l.height, l.tileWidth, l.tileHeight]), [[1152, 700, 256, 256]]);
    // PixelSpacing 0.028968 (rows, y) \ 0.028969 (columns, x) mm
    assert.ok(pr.mpp && Math.abs(pr.mpp.x - 28.969) < 1e-9 && Math.abs(pr.mpp.y - 28.968) < 1e-9, JSON.stringify(pr.mpp));
    assert.equal(pr.pixel.photometric, 'ycbcr');
    assert.equal(pr.raw['dicom.SeriesDescription'], 'Congo Red-Lung test');
    const fr = fragments(CAMELYON);
    assert.equal(fr.length, 15);
    for (const [c, r] of [[0, 0], [4, 2], [2, 1]]) {
      const ours = await s.readTile(0, c, r);
      const { data, info } = await sharp(fr[r * 5 + c]).raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([info.width, info.height, info.channels], [256, 256, 3]);
      const vw = Math.min(256, 1152 - c * 256), vh = Math.min(256, 700 - r * 256);
      assert.deepEqual([ours.width, ours.height], [vw, vh]);
      const crop = new Uint8Array(vw * vh * 3);
      for (let y = 0; y < vh; y++) crop.set(data.subarray(y * 256 * 3, (y * 256 + vw) * 3), y * vw * 3);
      assert.equal(meanAbs(ours.data, crop), 0, `tile (${c},${r}) equals sharp's decode of the frame`);
    }
    // sane colours: the brightest tenth (glass) is near neutral; read as RGB (no YCbCr transform) it would be pink
    const all = (await s.readRegion(0, 0, 0, 1152, 700)).data;
    const hist = new Uint32Array(766);
    for (let i = 0; i < all.length; i += 3) hist[all[i] + all[i + 1] + all[i + 2]]++;
    let cut = 765;
    // all.length / 3 pixels: the brightest tenth is all.length / 30
    for (let seen = 0; cut > 0 && seen + hist[cut] < all.length / 30; cut--) seen += hist[cut];
    const m = [0, 0, 0];
    let count = 0;
    for (let i = 0; i < all.length; i += 3) {
      if (all[i] + all[i + 1] + all[i + 2] < cut) continue;
      count++;
      for (let k = 0; k < 3; k++) m[k] += all[i + k];
    }
    for (let k = 0; k < 3; k++) m[k] /= count;
    assert.ok(Math.max(...m) - Math.min(...m) < 15 && Math.min(...m) > 200, `glass is near white: ${m.map((v) => v.toFixed(1))}`);
  });
});

test('dicom: sm_image native pixels equal a hand parse of its Pixel Data', { skip: SKIP_NO_SLIDES }, async () => {
  const p = handParsePixelData(readFileSync(SM));
  assert.ok('native' in p);
  assert.equal(p.native.length, 25 * 10 * 10 * 3);
  const expected = new Uint8Array(50 * 50 * 3);
  for (let f = 0; f < 25; f++) {
    const c = f % 5, r = Math.floor(f / 5);
    for (let y = 0; y < 10; y++) expected.set(p.native.subarray((f * 100 + y * 10) * 3, (f * 100 + y * 10 + 10) * 3), ((r * 10 + y) * 50 + c * 10) * 3);
  }
  await withSlide(SM, async (s) => {
    const pr = s.properties;
    assert.deepEqual(pr.levels.map((l) => [l.width, l.height, l.tileWidth, l.tileHeight]), [[50, 50, 10, 10]]);
    assert.equal(pr.compression, 'none');
    assert.deepEqual(pr.mpp, { x: 0.499, y: 0.499, source: 'vendor' });
    assert.equal(pr.hasIccProfile, true);
    assert.equal(pr.raw['dicom.Manufacturer'], 'Test Manufacturer');
    assert.equal(pr.raw['dicom.ContainerIdentifier'], 'S19-1_A_1_1');
    assert.equal(await s.readEncodedTile(0, 0, 0), null, 'native frames are not JPEG');
    const got = await s.readRegion(0, 0, 0, 50, 50);
    assert.deepEqual(Buffer.from(got.data), Buffer.from(expected));
  });
});

test('dicom: boxes_0/boxes_1 open as one slide from either file, the THUMBNAIL instance as its associated image', { skip: SKIP_NO_SLIDES }, async () => {
  const thumb = handParsePixelData(readFileSync(join(SHARED_SLIDES, 'boxes_1.dcm')));
  assert.ok('native' in thumb);
  for (const f of ['boxes_0.dcm', 'boxes_1.dcm']) {
    await withSlide(join(SHARED_SLIDES, f), async (s) => {
      const pr = s.properties;
      assert.deepEqual(pr.levels.map((l) => [l.width, l.height, l.tileWidth, l.tileHeight]), [[16, 16, 64, 64]], f);
      assert.deepEqual(pr.associatedImages, ['thumbnail']);
      assert.equal(pr.objectivePower, 20);
      assert.equal(pr.hasIccProfile, true);
      assert.equal(pr.raw['dicom.Manufacturer'], 'Leica Biosystems');
      const t = await s.readAssociated('thumbnail');
      assert.deepEqual([t.width, t.height], [16, 16]);
      assert.deepEqual(Buffer.from(t.data), Buffer.from(thumb.native));
      // the 64×64 frame holds the 16×16 image: the tile is cropped, the pass-through JPEG is the whole frame
      const tile = await s.readTile(0, 0, 0);
      assert.deepEqual([tile.width, tile.height], [16, 16]);
      const e = await s.readEncodedTile(0, 0, 0);
      assert.deepEqual([e?.width, e?.height], [64, 64]);
      // the Adobe (transform 0) JPEG decodes as RGB: close to the native thumbnail of the same boxes
      assert.ok(meanAbs(tile.data, thumb.native) < 10, `level 0 vs thumbnail mean |Δ| ${meanAbs(tile.data, thumb.native)}`);
    });
  }
});

test('dicom: a folder of several series, or of none, is refused naming the problem', { skip: SKIP_NO_SLIDES }, async () => {
  await assert.rejects(openSlide(SHARED_SLIDES), (e: unknown) => e instanceof SlideError && e.code === 'UNSUPPORTED_FORMAT' && /holds 3 DICOM whole-slide series/.test(e.message) && /open one file/.test(e.message));
  await assert.rejects(openSlide(join(SHARED_SLIDES, 'info')), (e: unknown) => e instanceof SlideError && e.code === 'NOT_FOUND' && /is a directory/.test(e.message));
});
