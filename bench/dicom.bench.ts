/**
 * DICOM vs SVS serving: CMU-1-Small-Region as the Aperio SVS and as Google wsi2dcm's 12-file DICOM series of it
 * (the same pixels, re-encoded in 500×500 frames). Cold open and every Deep Zoom tile of the whole pyramid
 * (8 requests in flight, as the viewer has), in the service's config ('native': the file's tiles passed through)
 * and in OpenSlide's 254/1; medians of alternating rounds, printed as the DICOM / SVS ratio.
 * Env: GLASSBOX_BENCH_ROUNDS (default 5).
 */
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { openSlide } from '../main/engine/slide/index.js';
import { ByteCache } from '../main/base/cache.js';
import { SlideTiler, TileCache } from '../main/engine/tiles/index.js';
import { SHARED_SLIDES } from '../test/helpers/paths.js';

const ROUNDS = Number(process.env.GLASSBOX_BENCH_ROUNDS ?? 5);
const SLIDES = { svs: join(SHARED_SLIDES, 'CMU-1-Small-Region.svs'), dicom: join(SHARED_SLIDES, 'CMU-1-Small-Region.wsi2dcm') };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function round(path: string, tileSize: number | 'native'): Promise<{ openMs: number; tilesMs: number; tiles: number; pass: number }> {
  const t0 = performance.now();
  const slide = await openSlide(path);
  const openMs = performance.now() - t0;
  try {
    const tiler = new SlideTiler(slide, new TileCache({ store: new ByteCache({ maxBytes: 256 * 2 ** 20 }) }), 'bench', { tileSize });
    const jobs: Array<[number, number, number]> = [];
    tiler.geometry.levels.forEach((l, i) => { for (let r = 0; r < l.rows; r++) for (let c = 0; c < l.cols; c++) jobs.push([i, c, r]); });
    let next = 0;
    const t1 = performance.now();
    await Promise.all(Array.from({ length: 8 }, async () => { while (next < jobs.length) { const [l, c, r] = jobs[next++]; await tiler.dziTile(l, c, r); } }));
    return { openMs, tilesMs: performance.now() - t1, tiles: jobs.length, pass: tiler.stats.passThrough };
  } finally {
    await slide.close();
  }
}

console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} on ${availableParallelism()} cores; ${ROUNDS} alternating rounds`);
for (const tileSize of ['native', 254] as const) {
  const res: Record<'svs' | 'dicom', Array<Awaited<ReturnType<typeof round>>>> = { svs: [], dicom: [] };
  await round(SLIDES.svs, tileSize); await round(SLIDES.dicom, tileSize); // warm the page cache and codecs
  for (let i = 0; i < ROUNDS; i++) for (const k of (i % 2 ? ['dicom', 'svs'] : ['svs', 'dicom']) as const) res[k].push(await round(SLIDES[k], tileSize));
  const line = (k: 'svs' | 'dicom') => {
    const r = res[k];
    const ms = median(r.map((x) => x.tilesMs));
    return { open: median(r.map((x) => x.openMs)), ms, tiles: r[0].tiles, pass: r[0].pass, perTile: ms / r[0].tiles };
  };
  const s = line('svs'), d = line('dicom');
  console.log(`Deep Zoom ${tileSize === 'native' ? 'native (pass-through)' : '254/1'}: SVS ${s.tiles} tiles in ${s.ms.toFixed(0)} ms (${s.perTile.toFixed(2)} ms/tile, ${s.pass} passed through), `
    + `DICOM ${d.tiles} tiles in ${d.ms.toFixed(0)} ms (${d.perTile.toFixed(2)} ms/tile, ${d.pass} passed through); open SVS ${s.open.toFixed(1)} ms, DICOM (12 files) ${d.open.toFixed(1)} ms; `
    + `DICOM/SVS whole pyramid ${(d.ms / s.ms).toFixed(2)}×, per tile ${(d.perTile / s.perTile).toFixed(2)}×`);
}
console.log(`load average after ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
