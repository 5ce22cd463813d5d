/**
 * First view and navigation in Chromium (playwright-core) against `glassbox serve SLIDE` (a separate process, cold
 * caches every round), on every slide in ../shared/slides. Viewport 1600×1000. Per slide, medians over the rounds:
 *  - interactive: navigation → the viewer has the slide open (accepts zoom/pan);
 *  - first view: navigation → every visible tile of the fitted view drawn (OpenSeadragon fully loaded);
 *  - zoom step / pan: key press (+, →) → the animation finished and every visible tile drawn ("sharp");
 *  - full-res tiles: level-0 tiles requested while the fitted view loaded (should be 0 unless the fit is ≥ 50 %).
 * Goals (issue 8): first view < 1.5 s, a zoom step or a pan sharp < 500 ms, interactive < 1 s — absolute times.
 * Peer, where OpenSlide reads the file: OpenSlide's DeepZoomGenerator (254/1) behind a threaded Python HTTP server
 * and the same OpenSeadragon build with the same viewer options (bench/first_view_openslide.py), measured the same
 * way in the same run; printed as ratios peer ÷ ours (> 1: we are faster).
 * Env: GLASSBOX_BENCH_ROUNDS (default 3), GLASSBOX_BENCH_SLIDES (comma-separated name filters),
 * GLASSBOX_BENCH_TRACE=DIR writes a Chromium performance trace and the tile network timings of the first round.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PYTHON, REPO_ROOT, SHARED_SLIDES } from '../test/helpers/paths.js';
import { CHROMIUM, CHROMIUM_ARGS, ensureRendererBuilt } from '../test/e2e/support.js';

const ROUNDS = Number(process.env.GLASSBOX_BENCH_ROUNDS ?? 3);
const FILTERS = (process.env.GLASSBOX_BENCH_SLIDES ?? '').split(',').filter(Boolean);
const TRACE_DIR = process.env.GLASSBOX_BENCH_TRACE;
const VIEWPORT = { width: 1600, height: 1000 };
const TIMEOUT = 60_000;
/** the timing-relevant OpenSeadragon options of renderer/src/components/Viewer.svelte, for the peer page */
const PEER_OSD_OPTIONS = {
  showNavigationControl: false, maxZoomPixelRatio: 3, minZoomImageRatio: 0.5, visibilityRatio: 0.3,
  viewportMargins: { top: 12, bottom: 12, left: 12, right: 12 }, animationTime: 0.3, springStiffness: 10, immediateRender: true,
  blendTime: 0, imageLoaderLimit: 12, maxTilesPerFrame: 12, drawer: 'canvas', zoomPerClick: 2, keyboardNavEnabled: false,
};

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN);
const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)} ms` : '—');
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

interface Run {
  interactive: number;
  firstView: number;
  zoom: number[];
  pan: number[];
  tiles: number;
  fullRes: number;
}

/** a child process printing its URL on stdout ("… http://127.0.0.1:PORT …") */
function startChild(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')}: no URL after 60 s\n${out}${err}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m && (!out.includes('serving on') || /opened /.test(out))) {
        clearTimeout(timer);
        resolve({ child, url: m[1] + '/' });
      }
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}: ${(err || out).trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (child.exitCode !== null) return r();
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
}

/** page time (ms since navigation start) when `cond` first holds, polled every animation frame */
async function pageTimeWhen(page: Page, cond: string): Promise<number> {
  const h = await page.waitForFunction(`(() => { const v = document.querySelector('[data-testid=viewer]'); return v && (${cond}) ? performance.now() : 0; })()`, null, {
    polling: 'raf',
    timeout: TIMEOUT,
  });
  return (await h.jsonValue()) as number;
}

/**
 * key press → the animation it starts has finished and every visible tile is drawn (ms); null when the key moved
 * nothing (at the zoom limit or an edge: no animation within a second)
 */
async function sharpAfter(page: Page, key: string): Promise<number | null> {
  await page.evaluate(() => {
    const w = window as unknown as { __saw: boolean; __t0: number };
    w.__saw = false;
    w.__t0 = -1;
    window.addEventListener('keydown', () => (w.__t0 = performance.now()), { capture: true, once: true });
  });
  await page.keyboard.press(key);
  const h = await page.waitForFunction(
    `(() => { const v = document.querySelector('[data-testid=viewer]'); if (v.dataset.moving === '1') window.__saw = true;
      if (window.__t0 < 0 || v.dataset.moving !== '0' || v.dataset.state !== 'ready') return 0;
      return window.__saw ? performance.now() - window.__t0 : performance.now() - window.__t0 > 1000 ? -1 : 0; })()`,
    null,
    { polling: 'raf', timeout: TIMEOUT },
  );
  const t = (await h.jsonValue()) as number;
  return t < 0 ? null : t;
}

/** Deep Zoom's full-resolution level is ceil(log2(max side)) */
function dzMaxLevelTiles(s: { width: number; height: number }): RegExp {
  return new RegExp(`_files/${Math.ceil(Math.log2(Math.max(s.width, s.height)))}/`);
}

let lastSize: { width: number; height: number } | null = null;
/** URLs of level-0 tiles of the slide the server opened: native level 0 or the Deep Zoom top level */
async function fullResTiles(url: string): Promise<RegExp> {
  const [info] = (await (await fetch(url + 'api/slides')).json()) as Array<{ width: number; height: number }>;
  lastSize = { width: info.width, height: info.height };
  return new RegExp(`/levels/0/|${dzMaxLevelTiles(info).source}`);
}

async function measure(browser: Browser, url: string, fullResTile: RegExp, trace?: string): Promise<Run> {
  // bypassCSP: the page's CSP forbids eval, which waitForFunction's polling uses
  const ctx = await browser.newContext({ viewport: VIEWPORT, bypassCSP: true });
  const page = await ctx.newPage();
  let tiles = 0;
  let fullRes = 0;
  let firstViewDone = false;
  const net: Array<{ url: string; start: number; end: number; server: number }> = [];
  page.on('requestfinished', (req) => {
    const u = req.url();
    if (!/\.jpe?g$/.test(u)) return;
    if (!firstViewDone) {
      tiles++;
      if (fullResTile.test(u)) fullRes++;
    }
    if (trace) {
      const t = req.timing();
      net.push({ url: u.replace(/^https?:\/\/[^/]+/, ''), start: Math.round(t.startTime), end: Math.round(t.responseEnd), server: Math.round(t.responseStart - t.requestStart) });
    }
  });
  try {
    if (trace) await browser.startTracing(page, { path: join(trace, 'first-view.trace.json'), screenshots: false });
    await page.goto(url, { waitUntil: 'commit' });
    const interactive = await pageTimeWhen(page, "v.dataset.state !== 'empty'");
    const firstView = await pageTimeWhen(page, "v.dataset.state === 'ready'");
    firstViewDone = true;
    if (trace) {
      await browser.stopTracing();
      writeFileSync(join(trace, 'first-view.network.json'), JSON.stringify(net, null, 1));
    }
    await page.mouse.move(VIEWPORT.width / 2, VIEWPORT.height / 2);
    const zoom: number[] = [];
    const pan: number[] = [];
    const step = async (key: string, into: number[]) => {
      const t = await sharpAfter(page, key);
      if (t !== null) into.push(t);
    };
    for (let i = 0; i < 3; i++) await step('+', zoom);
    for (let i = 0; i < 2; i++) await step('ArrowRight', pan);
    await step('-', zoom);
    return { interactive, firstView, zoom, pan, tiles, fullRes };
  } finally {
    await ctx.close();
  }
}

function slides(): string[] {
  if (!existsSync(SHARED_SLIDES)) return [];
  return readdirSync(SHARED_SLIDES)
    .filter((n) => /\.(svs|ndpi|tiff?|dcm|wsi2dcm)$/i.test(n) && !/^boxes_\d\.dcm$/.test(n) || n === 'boxes_0.dcm')
    .filter((n) => FILTERS.length === 0 || FILTERS.some((f) => n.includes(f)))
    .sort()
    .map((n) => join(SHARED_SLIDES, n));
}

function summarize(runs: Run[]) {
  return {
    interactive: median(runs.map((r) => r.interactive)),
    firstView: median(runs.map((r) => r.firstView)),
    zoom: median(runs.flatMap((r) => r.zoom)),
    zoomMax: Math.max(-Infinity, ...runs.flatMap((r) => r.zoom)),
    pan: median(runs.flatMap((r) => r.pan)),
    panMax: Math.max(-Infinity, ...runs.flatMap((r) => r.pan)),
    tiles: median(runs.map((r) => r.tiles)),
    fullRes: median(runs.map((r) => r.fullRes)),
  };
}

async function main() {
  const list = slides();
  if (list.length === 0) {
    console.log(`first-view: no slides under ${SHARED_SLIDES}: skipped`);
    return;
  }
  if (!existsSync(CHROMIUM)) {
    console.log(`first-view: ${CHROMIUM} not found: skipped`);
    return;
  }
  ensureRendererBuilt();
  const osdJs = join(REPO_ROOT, 'node_modules/openseadragon/build/openseadragon/openseadragon.min.js');
  const config = mkdtempSync(join(tmpdir(), 'gb-firstview-'));
  const env = { ...process.env, XDG_CONFIG_HOME: config };
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  console.log(`first-view: ${ROUNDS} rounds per slide, viewport ${VIEWPORT.width}×${VIEWPORT.height}, load average at start ${load()}`);
  const goals = { interactive: 1000, firstView: 1500, step: 500 };
  const rows: string[] = [];
  try {
    for (const path of list) {
      const name = path.slice(SHARED_SLIDES.length + 1);
      const ours: Run[] = [];
      const peer: Run[] = [];
      let peerError = '';
      let skip = '';
      let size: { width: number; height: number } | null = null;
      for (let r = 0; r < ROUNDS && !skip; r++) {
        // ours: `glassbox serve SLIDE` (fresh process: cold caches)
        let srv: { child: ChildProcess; url: string } | null = null;
        try {
          srv = await startChild(process.execPath, [join(REPO_ROOT, 'bin/glassbox.mjs'), 'serve', '--port', '0', path], env);
          let trace: string | undefined;
          if (TRACE_DIR && r === 0) mkdirSync((trace = join(TRACE_DIR, name.replace(/[^\w.-]/g, '_'))), { recursive: true });
          ours.push(await measure(browser, srv.url, await fullResTiles(srv.url), trace));
        } catch (e) {
          if (ours.length === 0) skip = (e as Error).message.split('\n')[0];
          else console.log(`  ${name}: round ${r + 1} failed: ${(e as Error).message.split('\n')[0]}`);
        } finally {
          if (srv) await stop(srv.child);
        }
        size = lastSize;
        if (peerError || skip || !size) continue;
        let py: { child: ChildProcess; url: string } | null = null;
        try {
          py = await startChild(PYTHON, [join(REPO_ROOT, 'bench/first_view_openslide.py'), path, osdJs, JSON.stringify(PEER_OSD_OPTIONS)], env);
          peer.push(await measure(browser, py.url, dzMaxLevelTiles(size!)));
        } catch (e) {
          peerError = (e as Error).message.split('\n')[0];
        } finally {
          if (py) await stop(py.child);
        }
      }
      if (skip) {
        console.log(`\n${name}: skipped (${skip})`);
        continue;
      }
      const o = summarize(ours);
      const p = peer.length ? summarize(peer) : null;
      const ratio = (a: number | undefined, b: number) => (a !== undefined && Number.isFinite(a) && b > 0 ? `${(a / b).toFixed(2)}×` : '—');
      const ok = (v: number, goal: number) => (v < goal ? 'ok' : 'MISSED');
      console.log(`\n${name}  (load ${load()})`);
      console.log(`  interactive        ${ms(o.interactive).padStart(8)}  goal < ${goals.interactive} ms: ${ok(o.interactive, goals.interactive)}${p ? `   peer ${ms(p.interactive)} (peer÷ours ${ratio(p.interactive, o.interactive)})` : ''}`);
      console.log(`  first view drawn   ${ms(o.firstView).padStart(8)}  goal < ${goals.firstView} ms: ${ok(o.firstView, goals.firstView)}${p ? `   peer ${ms(p.firstView)} (peer÷ours ${ratio(p.firstView, o.firstView)})` : ''}`);
      console.log(`  zoom step sharp    ${ms(o.zoom).padStart(8)}  (max ${ms(o.zoomMax)}) goal < ${goals.step} ms: ${ok(o.zoom, goals.step)}${p ? `   peer ${ms(p.zoom)} (peer÷ours ${ratio(p.zoom, o.zoom)})` : ''}`);
      console.log(`  arrow pan sharp    ${ms(o.pan).padStart(8)}  (max ${ms(o.panMax)}) goal < ${goals.step} ms: ${ok(o.pan, goals.step)}${p ? `   peer ${ms(p.pan)} (peer÷ours ${ratio(p.pan, o.pan)})` : ''}`);
      console.log(`  tiles for the fitted view: ${o.tiles} (full-resolution: ${o.fullRes})${p ? `; peer ${p.tiles}` : ''}`);
      if (!p) console.log(`  peer: none (${peerError || 'OpenSlide cannot read this file'})`);
      rows.push(`${name}\t${Math.round(o.interactive)}\t${Math.round(o.firstView)}\t${Math.round(o.zoom)}\t${Math.round(o.pan)}`);
    }
  } finally {
    await browser.close();
    rmSync(config, { recursive: true, force: true });
  }
  console.log(`\nslide\tinteractive\tfirst view\tzoom step\tpan (ms, medians)\n${rows.join('\n')}\nload average at end ${load()}`);
}

await main();
