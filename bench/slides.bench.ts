/**
 * Slide benchmarks (printed as ratios measured in this run; never a timed test):
 *  (a) base-level Deep Zoom tiles/s on CMU-1-Small-Region.svs, cold cache: ours (254/1 like DeepZoomGenerator's
 *      default, and the native 240/0 pass-through config) vs OpenSlide's DeepZoomGenerator + PIL JPEG;
 *  (b) `glassbox dzi` (the compiled CLI, whole process) vs `vips dzsave` on a generated 16k×12k pyramidal JPEG TIFF,
 *      medians over alternating runs (goal ≤ 1.0×), with each side's CPU time;
 *  (c) open -> first tile, in-process and over the HTTP host.
 * Env: GLASSBOX_BENCH_ROUNDS (default 3), GLASSBOX_BENCH_SKIP_DZI=1 to skip (b).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { openSlide } from '../main/engine/slide/index.js';
import { SlideTiler, TileCache } from '../main/engine/tiles/index.js';
import { CodecPool } from '../main/engine/tiles/codec-pool.js';
import { startServer } from '../app/server/index.js';
import { urls, type SlideInfoDTO } from '../main/contract/slides.js';
import { CACHE_DIR, PYTHON, REPO_ROOT, SHARED_SLIDES } from '../test/helpers/paths.js';
import { BIN, ensureCompiledCli, timeCmd } from './cli-run.js';

const ROUNDS = Number(process.env.GLASSBOX_BENCH_ROUNDS ?? 3);
const QUALITY = 85;
const CMU = join(SHARED_SLIDES, 'CMU-1-Small-Region.svs');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x: number, d = 0) => x.toFixed(d);

async function oursBaseLevel(tileSize: number, overlap: number, concurrent: boolean, pool?: CodecPool) {
  const secs: number[] = [];
  const cpus: number[] = [];
  const firsts: number[] = [];
  let tiles = 0;
  let pass = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const slide = await openSlide(CMU); // fresh slide + fresh cache: cold
    const t = new SlideTiler(slide, new TileCache(), 'bench', { tileSize, overlap, quality: QUALITY, pool });
    const L = t.geometry.levels[t.geometry.maxLevel];
    const jobs: Array<[number, number]> = [];
    for (let r = 0; r < L.rows; r++) for (let c = 0; c < L.cols; c++) jobs.push([c, r]);
    let first = 0;
    if (concurrent) {
      await Promise.all(jobs.map(([c, r]) => t.dziTile(t.geometry.maxLevel, c, r).then(() => (first ||= performance.now() - t0))));
    } else {
      for (const [c, r] of jobs) {
        await t.dziTile(t.geometry.maxLevel, c, r);
        first ||= performance.now() - t0;
      }
    }
    secs.push((performance.now() - t0) / 1000);
    const cu = process.cpuUsage(c0);
    cpus.push((cu.user + cu.system) / 1e6);
    firsts.push(first);
    tiles = jobs.length;
    pass = t.stats.passThrough;
    await slide.close();
  }
  return { tilesPerSec: tiles / median(secs), cpuMsPerTile: (1000 * median(cpus)) / tiles, tiles, pass, firstMs: median(firsts) };
}

function openslideBaseLevel(tileSize: number, overlap: number) {
  const out = execFileSync(PYTHON, [join(REPO_ROOT, 'bench', 'slides_openslide.py'), CMU, String(tileSize), String(overlap), String(QUALITY), String(ROUNDS)], { encoding: 'utf8' });
  const j = JSON.parse(out) as { seconds: number[]; cpu_seconds: number[]; tiles: number; first_tile_seconds: number[] };
  return { tilesPerSec: j.tiles / median(j.seconds), cpuMsPerTile: (1000 * median(j.cpu_seconds)) / j.tiles, tiles: j.tiles, firstMs: median(j.first_tile_seconds) * 1000 };
}

async function benchTiles() {
  if (!existsSync(CMU)) {
    console.log(`(a) skipped: ${CMU} not found`);
    return;
  }
  console.log(`(a) base-level DZI tiles of CMU-1-Small-Region.svs, cold cache, JPEG q${QUALITY}, median of ${ROUNDS} rounds`);
  for (const [ts, ov] of [[254, 1], [240, 0]]) {
    const os = openslideBaseLevel(ts, ov);
    const seq = await oursBaseLevel(ts, ov, false);
    const par = await oursBaseLevel(ts, ov, true);
    const pool = new CodecPool();
    await oursBaseLevel(ts, ov, true, pool); // start the workers
    const parPool = await oursBaseLevel(ts, ov, true, pool);
    await pool.close();
    const label = `${ts}/${ov}${ov === 0 ? ' (native pass-through)' : ''}`;
    console.log(
      `base-level tiles/s ${label}: ours ${fmt(par.tilesPerSec)} (concurrent; ${fmt(seq.tilesPerSec)} one at a time), openslide ${fmt(os.tilesPerSec)} (one thread), ` +
        `ratio ${fmt(par.tilesPerSec / os.tilesPerSec, 2)}× (one at a time: ${fmt(seq.tilesPerSec / os.tilesPerSec, 2)}×)  [${par.tiles} tiles, ${par.pass} passed through]` +
        (ts === 254 ? ` (goal ≥ 2×: ${par.tilesPerSec / os.tilesPerSec >= 2 ? 'met' : 'NOT met'})` : ''),
    );
    console.log(`    with ${pool.size} codec worker threads (concurrent): ours ${fmt(parPool.tilesPerSec)} tiles/s, ratio ${fmt(parPool.tilesPerSec / os.tilesPerSec, 2)}×`);
    console.log(
      `    CPU per tile ${label}: ours ${fmt(seq.cpuMsPerTile, 2)} ms, openslide ${fmt(os.cpuMsPerTile, 2)} ms, ratio ${fmt(os.cpuMsPerTile / seq.cpuMsPerTile, 2)}× (all threads; independent of other load)`,
    );
    if (ts === 254) console.log(`(c) open -> first tile (in-process): ours ${fmt(seq.firstMs, 1)} ms, openslide ${fmt(os.firstMs, 1)} ms, ratio ${fmt(os.firstMs / seq.firstMs, 2)}×`);
  }
  // (c) over the HTTP host: POST open + GET first tile, fresh server each round
  const ms: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const srv = await startServer({ port: 0, log: () => {} });
    const t0 = performance.now();
    const info = (await (await fetch(srv.url + urls.slides(), { method: 'POST', body: JSON.stringify({ path: CMU }) })).json()) as SlideInfoDTO;
    const r = await fetch(srv.url + urls.dziTile(info.id, 12, 0, 0));
    await r.arrayBuffer();
    ms.push(performance.now() - t0);
    await srv.close();
  }
  console.log(`(c) open -> first tile over HTTP (POST /api/slides + GET tile): ours ${fmt(median(ms), 1)} ms`);
}

/** 16384×12288 pyramidal JPEG TIFF: a 2048×1536 textured pattern (gradients, blobs, noise) replicated 8×8 by vips. */
async function bigTiff(): Promise<string> {
  const dir = join(CACHE_DIR, 'bench');
  const out = join(dir, 'synthetic-16384x12288-jpeg-pyramid.tif');
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const w = 2048, h = 1536;
  const data = new Uint8Array(w * h * 3);
  let seed = 1234567;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const o = (y * w + x) * 3;
    const blob = Math.sin(x / 37) * Math.cos(y / 29) * 60;
    const n = (rnd() - 0.5) * 40;
    data[o] = Math.max(0, Math.min(255, 200 + blob + n));
    data[o + 1] = Math.max(0, Math.min(255, 120 + blob * 0.8 + n + (x * 40) / w));
    data[o + 2] = Math.max(0, Math.min(255, 180 - blob * 0.5 + n + (y * 40) / h));
  }
  const png = join(dir, `src-${process.pid}.png`);
  const tmp = join(dir, `tmp-${process.pid}.tif`);
  await sharp(data, { raw: { width: w, height: h, channels: 3 } }).png().toFile(png);
  console.log(`(b) generating ${out} with vips (once) …`);
  execFileSync('vips', ['replicate', png, `${tmp}[tile,pyramid,compression=jpeg,Q=85,tile-width=256,tile-height=256]`, '8', '8'], { stdio: 'inherit' });
  renameSync(tmp, out);
  rmSync(png, { force: true });
  return out;
}

async function benchDzi() {
  if (process.env.GLASSBOX_BENCH_SKIP_DZI) return console.log('(b) skipped (GLASSBOX_BENCH_SKIP_DZI)');
  const src = await bigTiff();
  const work = mkdtempSync(join(tmpdir(), 'gbx-bench-dzi-'));
  try {
    const cli = ensureCompiledCli();
    const ours: Array<{ wall: number; cpu: number }> = [];
    const vips: Array<{ wall: number; cpu: number }> = [];
    const n = Math.max(1, ROUNDS);
    for (let i = 0; i < n; i++) {
      rmSync(join(work, 'v'), { recursive: true, force: true });
      rmSync(join(work, 'o'), { recursive: true, force: true });
      mkdirSync(join(work, 'v'));
      vips.push(timeCmd('vips', ['dzsave', src, join(work, 'v', 'out'), '--tile-size', '254', '--overlap', '1', '--suffix', `.jpeg[Q=${QUALITY}]`]));
      ours.push(timeCmd(process.execPath, [BIN, 'dzi', src, join(work, 'o'), '--tile-size', '254', '--overlap', '1', '--quality', String(QUALITY), '--name', 'out', '--quiet'], { ...process.env, GLASSBOX_CLI: cli }));
    }
    const [ow, vw] = [median(ours.map((r) => r.wall)), median(vips.map((r) => r.wall))];
    const [oc, vc] = [median(ours.map((r) => r.cpu)), median(vips.map((r) => r.cpu))];
    console.log(`(b) dzi 16384×12288 254/1 q${QUALITY}, medians of ${n} alternating runs (load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}): glassbox dzi (${cli}) ${fmt(ow, 2)} s, vips dzsave ${fmt(vw, 2)} s, ratio ${fmt(ow / vw, 2)}× vips (goal ≤ 1.0×: ${ow / vw <= 1 ? 'met' : 'NOT met'}); `
      + `CPU time ${fmt(oc, 1)} s vs ${fmt(vc, 1)} s = ${fmt(oc / vc, 2)}×; best runs ${fmt(Math.min(...ours.map((r) => r.wall)), 2)} s vs ${fmt(Math.min(...vips.map((r) => r.wall)), 2)} s`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

console.log(`slides bench: ${availableParallelism()} cores, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} (other work shares these cores: numbers are noisy)`);
await benchTiles();
await benchDzi();
