/**
 * Whole-slide analysis benchmarks (printed as ratios measured in this run; never a timed test):
 *  (a) whole-slide Grad-CAM, WHOLE PROCESSES on the same slide, model and patches: `glassbox analyze` vs the
 *      OpenSlide + PyTorch script a user would write instead (bench/analyze_torch.py: read_region per patch at the
 *      model's µm/px, the same Otsu-on-saturation tissue rule and patch grid, batched forward + the pytorch-grad-cam
 *      recipe at layer4, stitched into a slide-level .npy). Model: torchvision ResNet-18, 3 classes, seeded random
 *      weights; the glassbox package (model.onnx + config.json, 224 px at 0.5 µm/px, ToTensor + ImageNet Normalize,
 *      target_layer = layer4's output) is exported from the same weights. One class (0). Prints both patch counts
 *      and the correlation of the two stitched heatmaps (the comparison is only fair if they agree). Goal ≥ 3×.
 *      Slides: CMU-1-Small-Region.svs from ../shared/slides when present, and a generated synthetic H&E slide.
 *  (b) pipeline efficiency, in process: analyzeSlide's patches/s (analysis stage: reads ∥ batched inference + CAM,
 *      stitching) ÷ the same explainer's rate on pre-built batches of the same size in memory (no I/O). Goal ≥ 90 %.
 *      Also where the pipeline's time goes: time inside explain() vs waiting between batches, CPU ms per patch.
 *  (c) peak RSS of `glassbox analyze` on a synthetic 100,000 × 100,000 px slide (mostly glass, a few tissue
 *      regions; generated once into ~/.cache/glassbox-bench/), as a child process under /usr/bin/time -v (else
 *      polling /proc/PID/status VmHWM). Goal < 1.5 GB.
 * Env: GLASSBOX_BENCH_ROUNDS (default 3: alternating runs, medians), GLASSBOX_BENCH_BATCH (16),
 *      GLASSBOX_BENCH_TORCH_THREADS (PyTorch thread counts to try, the faster median is the peer; default 1,cores —
 *      onnxruntime uses the cores, without spin-waiting),
 *      GLASSBOX_BENCH_SKIP_100K=1 (or GLASSBOX_BENCH_SKIP_SLOW=1) to skip (c), GLASSBOX_BENCH_100K_CLASS (0 | all; default 0),
 *      GLASSBOX_BENCH_ONLY=a,b,c to run some parts, GLASSBOX_BENCH_SYNTHETIC=WxH (the synthetic slide of (a) and (b);
 *      default 3072x2304; larger slides amortise both sides' start-up: 8192x6144 has ~400 tissue patches).
 * Run: `npm run bench analysis` or `node --import tsx bench/analysis.bench.ts`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { availableParallelism, homedir, loadavg, tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openSlide } from '../main/engine/slide/index.js';
import { loadModelPackage } from '../main/engine/model/index.js';
import { createExplainer } from '../main/engine/explain/index.js';
import { readNpy } from '../main/engine/explain/npy.js';
import type { Explainer, Tensor } from '../main/engine/explain/types.js';
import { analyzeSlide } from '../main/engine/analysis/index.js';
import { writeSyntheticSlide, presetRegions, type SyntheticRegion, type SyntheticSpec } from '../test/fixtures/synthetic-slide.js';
import { CACHE_DIR, PYTHON, REPO_ROOT, SHARED_SLIDES } from '../test/helpers/paths.js';
import { ensureCompiledCli } from './cli-run.js';

const ROUNDS = Number(process.env.GLASSBOX_BENCH_ROUNDS ?? 3);
const BATCH = Number(process.env.GLASSBOX_BENCH_BATCH ?? 16);
/** PyTorch thread counts tried; the peer is the faster (on a loaded machine OpenMP spin-waiting can make 2 threads slower than 1) */
const THREADS = (process.env.GLASSBOX_BENCH_TORCH_THREADS ?? [...new Set([1, availableParallelism()])].join(',')).split(',').map(Number);
const SKIP_100K = process.env.GLASSBOX_BENCH_SKIP_100K === '1' || process.env.GLASSBOX_BENCH_SKIP_SLOW === '1';
const CLASS_100K = process.env.GLASSBOX_BENCH_100K_CLASS ?? '0';
const ONLY = new Set((process.env.GLASSBOX_BENCH_ONLY ?? 'a,b,c').split(','));
const PY = join(REPO_ROOT, 'bench', 'analyze_torch.py');
const CLI = join(REPO_ROOT, 'bench', '..', 'bin', 'glassbox.mjs');
/** the compiled CLI (dist/cli, built now) unless it cannot be built: then the tsx path */
const CLI_ENV = { ...process.env, GLASSBOX_CLI: ensureCompiledCli() };
const BENCH_CACHE = process.env.GLASSBOX_BENCH_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'glassbox-bench');
const CMU = join(SHARED_SLIDES, 'CMU-1-Small-Region.svs');
const CLASS = 0;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f1 = (v: number) => v.toFixed(1);
const load = () => loadavg().map((v) => v.toFixed(1)).join(' ');
const hash = (...parts: (string | Buffer)[]) => { const h = createHash('sha256'); for (const p of parts) h.update(p); return h.digest('hex').slice(0, 12); };

// ---------------------------------------------------------------------------------------------------------
// fixtures: the model package (exported from the torch weights) and the slides

function modelPackage(): string {
  const dir = join(CACHE_DIR, `bench-analysis-${hash(readFileSync(PY))}`);
  if (!existsSync(join(dir, 'config.json'))) {
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    const r = spawnSync(PYTHON, ['-W', 'ignore', PY, 'export', tmp], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`analyze_torch.py export failed: ${r.stderr || r.error}`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  }
  return dir;
}

/** a generated slide in BENCH_CACHE, keyed by its spec (the generator is deterministic) */
async function syntheticSlide(name: string, spec: SyntheticSpec): Promise<string> {
  mkdirSync(BENCH_CACHE, { recursive: true });
  const gen = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'synthetic-slide.ts'));
  const path = join(BENCH_CACHE, `${name}-${hash(JSON.stringify(spec), gen)}.tif`);
  if (!existsSync(path)) {
    const t0 = performance.now();
    const tmp = `${path}.tmp-${process.pid}`;
    await writeSyntheticSlide(tmp, spec);
    renameSync(tmp, path);
    console.log(`  generated ${path} in ${f1((performance.now() - t0) / 1000)} s`);
  }
  return path;
}

/** H&E-like synthetic slide at 0.5 µm/px (default 3072 × 2304: ~100 tissue patches), Aperio layout (OpenSlide reads its µm/px) */
const [SW, SH] = (process.env.GLASSBOX_BENCH_SYNTHETIC ?? '3072x2304').split('x').map(Number);
const SMALL_SPEC: SyntheticSpec = { width: SW, height: SH, mpp: 0.5, format: 'aperio', quality: 90, regions: presetRegions('he-demo', SW, SH) };

/** 100k × 100k at 0.5 µm/px: glass with five tissue regions, ~1.6k tissue patches of 224 px */
const R100K: SyntheticRegion[] = [
  { x: 20000, y: 15000, w: 5000, h: 5000, shape: 'ellipse', fill: 'he-stroma' },
  { x: 21000, y: 16000, w: 3000, h: 3000, shape: 'ellipse', fill: 'he-cellular' },
  { x: 60000, y: 30000, w: 5000, h: 5000, shape: 'ellipse', fill: 'he-cellular' },
  { x: 40000, y: 70000, w: 5000, h: 5000, shape: 'ellipse', fill: 'he-stroma' },
  { x: 75000, y: 80000, w: 3000, h: 6000, shape: 'rect', fill: 'he-cellular' },
];
const BIG_SPEC: SyntheticSpec = { width: 100_000, height: 100_000, mpp: 0.5, quality: 90, regions: R100K };

// ---------------------------------------------------------------------------------------------------------
// (a) whole processes

interface CliRun { seconds: number; patches: number; gridPatches: number; rate: number; stdout: string }

function runCli(slide: string, pkg: string, out: string, extra: string[] = []): CliRun {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'analyze', slide, '--model', pkg, '--out', out, '--class', String(CLASS), '--batch', String(BATCH),
    '--no-cache', '--ep', 'cpu', '--force', ...extra], { encoding: 'utf8', cwd: REPO_ROOT, maxBuffer: 1 << 24, env: CLI_ENV });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`glassbox analyze failed (${r.status}): ${r.stderr}`);
  const done = /done: (\d+) patches.* of (\d+) in the grid in [\d.]+ s, ([\d.]+) patches\/s/.exec(r.stdout);
  if (!done) throw new Error(`unexpected glassbox analyze output:\n${r.stdout}`);
  return { seconds, patches: Number(done[1]), gridPatches: Number(done[2]), rate: Number(done[3]), stdout: r.stdout };
}

interface PyRun { seconds: number; patches: number; grid_patches: number; threads: number; torch: string; stages: Record<string, number>; script: number }

function runPy(slide: string, pkg: string, out: string, threads: number): PyRun {
  const t0 = performance.now();
  const r = spawnSync(PYTHON, ['-W', 'ignore', PY, 'run', slide, pkg, out, '--class', String(CLASS), '--batch', String(BATCH), '--threads', String(threads)],
    { encoding: 'utf8', maxBuffer: 1 << 24 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`analyze_torch.py run failed (${r.status}): ${r.stderr}`);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return { seconds, patches: j.patches, grid_patches: j.grid_patches, threads: j.threads, torch: j.torch, stages: j.seconds, script: j.script_seconds };
}

/** Pearson correlation over cells finite in both maps, and how many cells are finite in only one */
function correlate(a: Float32Array, b: Float32Array): { r: number; both: number; onlyOne: number; maxRel: number } {
  let n = 0, sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, onlyOne = 0, maxd = 0, maxa = 0;
  for (let i = 0; i < a.length; i++) {
    const fa = Number.isFinite(a[i]), fb = Number.isFinite(b[i]);
    if (fa !== fb) onlyOne++;
    if (!fa || !fb) continue;
    n++; sa += a[i]; sb += b[i]; saa += a[i] * a[i]; sbb += b[i] * b[i]; sab += a[i] * b[i];
    maxd = Math.max(maxd, Math.abs(a[i] - b[i])); maxa = Math.max(maxa, Math.abs(b[i]));
  }
  const cov = sab - (sa * sb) / n, va = saa - (sa * sa) / n, vb = sbb - (sb * sb) / n;
  return { r: cov / Math.sqrt(va * vb), both: n, onlyOne, maxRel: maxd / (maxa || 1) };
}

async function benchCompare(pkg: string, slides: Array<[string, string]>) {
  console.log(`(a) whole-slide Grad-CAM, whole processes (start → .npy written): glassbox analyze (onnxruntime-node CPU) vs OpenSlide + PyTorch `
    + `(bench/analyze_torch.py; torch threads ${THREADS.join(' and ')}, the faster is the peer); ResNet-18 3 classes, layer4, class ${CLASS}, batch ${BATCH}; median of ${ROUNDS} alternating runs`);
  const summary: string[] = [];
  for (const [label, slide] of slides) {
    const work = mkdtempSync(join(tmpdir(), 'glassbox-bench-analysis-'));
    try {
      const ours: CliRun[] = [];
      const peers = new Map<number, PyRun[]>(THREADS.map((t) => [t, []]));
      for (let i = 0; i < ROUNDS; i++) {
        const order = ['ours', ...THREADS];
        if (i % 2 === 1) order.reverse();
        for (const who of order) {
          if (who === 'ours') ours.push(runCli(slide, pkg, join(work, 'ours')));
          else peers.get(who as number)!.push(runPy(slide, pkg, join(work, 'peer.npy'), who as number));
        }
      }
      const byThreads = [...peers].map(([t, runs]) => `${t} thread${t > 1 ? 's' : ''} ${f1(median(runs.map((r) => r.seconds)))} s (${runs.map((r) => f1(r.seconds)).join(', ')})`).join('; ');
      const peer = [...peers.values()].sort((x, y) => median(x.map((r) => r.seconds)) - median(y.map((r) => r.seconds)))[0];
      const a = (await readNpy(join(work, 'ours', 'heatmap.npy'))).data as Float32Array;
      const b = (await readNpy(join(work, 'peer.npy'))).data as Float32Array;
      const c = a.length === b.length ? correlate(a, b) : null;
      const o = median(ours.map((r) => r.seconds)), p = median(peer.map((r) => r.seconds));
      const st = (k: string) => f1(median(peer.map((r) => r.stages[k] ?? NaN)));
      const np = ours[0].patches, pp = peer[0].patches;
      const agree = Math.abs(np - pp) / Math.max(np, pp);
      console.log(`  ${label}: ${np} tissue patches of ${ours[0].gridPatches} (peer: ${pp} of ${peer[0].grid_patches}; ${agree <= 0.03 ? 'they agree' : 'they DIFFER'}: ${(agree * 100).toFixed(1)} % apart)`);
      console.log(`    ours ${f1(o)} s (${ours.map((r) => f1(r.seconds)).join(', ')}); analysis stage ${f1(median(ours.map((r) => r.rate)))} patches/s, whole process ${f1(np / o)} patches/s`);
      console.log(`    peer: ${byThreads}`);
      console.log(`    peer ${f1(p)} s with ${peer[0].threads} thread${peer[0].threads > 1 ? 's' : ''}; torch ${peer[0].torch}: imports+model ${f1(median(peer.map((r) => r.seconds - r.script)) + median(peer.map((r) => r.stages.model)))} s, `
        + `tissue ${st('tissue')} s, read+preprocess ${st('read+preprocess')} s, forward+backward+CAM ${st('gradcam')} s; whole process ${f1(pp / p)} patches/s`);
      console.log(c
        ? `    heatmaps: Pearson r = ${c.r.toFixed(6)} over ${c.both} cells, ${c.onlyOne} cells analysed by only one; max|diff|/max|peer| = ${c.maxRel.toExponential(2)}`
        : `    heatmaps: shapes differ (${a.length} vs ${b.length} cells): NOT comparable`);
      const ratio = p / o;
      // the part that does not grow with the slide: start-up, model, tissue mask, writing (whole − per-patch work)
      const oursRate = median(ours.map((r) => r.rate));
      const peerPatchS = median(peer.map((r) => r.stages['read+preprocess'] + r.stages.gradcam));
      console.log(`    fixed costs (whole process − per-patch stage): ours ${f1(o - np / oursRate)} s, peer ${f1(p - peerPatchS)} s; per-patch stage alone: ours ${f1(oursRate)} vs peer ${f1(pp / peerPatchS)} patches/s = ${(oursRate / (pp / peerPatchS)).toFixed(2)}×`);
      console.log(`    ours ÷ peer speed: ${ratio.toFixed(2)}× (goal ≥ 3×: ${ratio >= 3 ? 'met' : 'NOT met'})`);
      summary.push(`${label} ${ratio.toFixed(2)}×`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  console.log(`  load average ${load()} on ${availableParallelism()} cores (shared: other processes compete)`);
  return summary;
}

// ---------------------------------------------------------------------------------------------------------
// (b) pipeline efficiency

interface Timed { explainMs: number[]; starts: number[]; ends: number[] }

/** the explainer with every explain() call timed */
function timedExplainer(e: Explainer, t: Timed): Explainer {
  return new Proxy(e, {
    get(target, prop) {
      if (prop === 'explain') {
        return async (...args: Parameters<Explainer['explain']>) => {
          const t0 = performance.now();
          try {
            return await target.explain(...args);
          } finally {
            const t1 = performance.now();
            t.explainMs.push(t1 - t0); t.starts.push(t0); t.ends.push(t1);
          }
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

async function pipelineOnce(slidePath: string, pkgDir: string) {
  const slide = await openSlide(slidePath);
  const model = await loadModelPackage(pkgDir);
  const t: Timed = { explainMs: [], starts: [], ends: [] };
  let readMs = 0, reads = 0;
  const read = slide.readRegion.bind(slide);
  slide.readRegion = async (...args: Parameters<typeof read>) => {
    const t0 = performance.now();
    try { return await read(...args); } finally { readMs += performance.now() - t0; reads++; }
  };
  let analysingAt = 0, doneAt = 0;
  let c0 = process.cpuUsage(), cpu = c0;
  try {
    const out = await analyzeSlide({
      slide, model, version: 'bench', cache: null,
      settings: { classes: [CLASS], method: 'gradcam', signed: false, batch: BATCH, overlap: 0, minTissue: 0.1, ep: 'cpu' },
      createExplainer: async (m, o) => timedExplainer(await createExplainer(m, o), t),
      onProgress: (p) => {
        if (p.stage === 'analysing' && !analysingAt) { analysingAt = performance.now(); readMs = 0; reads = 0; c0 = process.cpuUsage(); }
        if (p.stage === 'done' && !doneAt) { doneAt = performance.now(); cpu = process.cpuUsage(c0); }
      },
    });
    const r = out.result!;
    // waits: from the analysis start to the first batch, and between batches (the model idle, waiting for input / stitching)
    const firstWait = t.starts[0] - analysingAt;
    let gaps = 0;
    for (let i = 1; i < t.starts.length; i++) gaps += t.starts[i] - t.ends[i - 1];
    return {
      patches: r.patches.length, rate: r.timing.patchesPerSecond, analysisMs: r.timing.analysisMs, inferenceMs: r.timing.inferenceMs,
      firstWait, gaps, firstExplain: t.explainMs[0], steadyExplain: median(t.explainMs.slice(1)), batches: t.explainMs.length,
      readMs, reads, cpuMs: (cpu.user + cpu.system) / 1000, tissueMs: r.timing.tissueMs, tailMs: r.timing.analysisMs - (t.ends[t.ends.length - 1] - analysingAt),
    };
  } finally {
    await slide.close();
  }
}

async function pureOnce(pkgDir: string, patches: number) {
  const model = await loadModelPackage(pkgDir);
  const e = await createExplainer(model.modelPath, { layer: model.config!.target_layer, methods: ['gradcam'], ep: 'cpu' });
  try {
    const [C, H, W] = e.inputShape;
    const x = new Float32Array(BATCH * C * H * W);
    let s = 1;
    for (let i = 0; i < x.length; i++) { s = (s * 1103515245 + 12345) >>> 0; x[i] = (s / 2 ** 32) * 4 - 2; }
    const tensor: Tensor = { data: x, dims: [BATCH, C, H, W] };
    const seed: Tensor = { data: Float32Array.from({ length: e.numClasses }, (_, k) => (k === CLASS ? 1 : 0)), dims: [e.numClasses] };
    const t0 = performance.now();
    await e.explain(tensor, seed); // the first call (session warm-up), reported apart
    const first = performance.now() - t0;
    const times: number[] = [];
    const c0 = process.cpuUsage();
    const n = Math.max(3, Math.ceil(patches / BATCH) - 1);
    for (let i = 0; i < n; i++) {
      const t1 = performance.now();
      await e.explain(tensor, seed);
      times.push(performance.now() - t1);
    }
    const cpu = process.cpuUsage(c0);
    return { rate: (BATCH * 1000) / median(times), first, cpuMsPerPatch: (cpu.user + cpu.system) / 1000 / (n * BATCH) };
  } finally {
    await e.dispose();
  }
}

async function benchEfficiency(pkg: string, label: string, slide: string) {
  console.log(`(b) pipeline efficiency on ${label}, in process: analyzeSlide (class ${CLASS}, batch ${BATCH}, ep cpu, no cache) patches/s in the analysis stage`
    + ` ÷ the same explainer on a pre-built in-memory batch of ${BATCH} (steady state, after one warm-up call); median of ${ROUNDS} alternating rounds`);
  const pipe: Awaited<ReturnType<typeof pipelineOnce>>[] = [], pure: Awaited<ReturnType<typeof pureOnce>>[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    if (i % 2 === 0) { pipe.push(await pipelineOnce(slide, pkg)); pure.push(await pureOnce(pkg, pipe[0].patches)); }
    else { pure.push(await pureOnce(pkg, pipe[0].patches)); pipe.push(await pipelineOnce(slide, pkg)); }
  }
  const m = (xs: number[]) => median(xs);
  const P = pipe[0].patches;
  const pr = m(pipe.map((r) => r.rate)), ur = m(pure.map((r) => r.rate));
  console.log(`  pipeline: ${P} patches in ${pipe[0].batches} batches, ${f1(pr)} patches/s (${pipe.map((r) => f1(r.rate)).join(', ')}); analysis stage ${f1(m(pipe.map((r) => r.analysisMs)) / 1000)} s`);
  console.log(`  pure explain: ${f1(ur)} patches/s (${pure.map((r) => f1(r.rate)).join(', ')}); its first call ${f1(m(pure.map((r) => r.first)))} ms vs steady ${f1((BATCH * 1000) / ur)} ms per batch`);
  const eff = pr / ur;
  console.log(`  efficiency: ${(eff * 100).toFixed(0)} % (goal ≥ 90 %: ${eff >= 0.9 ? 'met' : 'NOT met'})`);
  const a = m(pipe.map((r) => r.analysisMs));
  console.log(`  where the analysis stage goes (medians): inside explain() ${f1(m(pipe.map((r) => r.inferenceMs)))} ms (first batch ${f1(m(pipe.map((r) => r.firstExplain)))} ms, then ${f1(m(pipe.map((r) => r.steadyExplain)))} ms per batch`
    + ` vs ${f1((BATCH * 1000) / ur)} ms pure); model idle: ${f1(m(pipe.map((r) => r.firstWait)))} ms before the first batch + ${f1(m(pipe.map((r) => r.gaps)))} ms between batches`
    + ` + ${f1(m(pipe.map((r) => r.tailMs)))} ms after the last; of ${f1(a)} ms`);
  console.log(`  region reads: ${pipe[0].reads} calls, ${f1(m(pipe.map((r) => r.readMs)) / pipe[0].reads)} ms each (async wall from call to result, overlapping: up to ${2 * BATCH} in flight);`
    + ` CPU per patch in the analysis stage (all threads): pipeline ${f1(m(pipe.map((r) => r.cpuMs / r.patches)))} ms, pure explain ${f1(m(pure.map((r) => r.cpuMsPerPatch)))} ms`
    + ` (the difference is reading, decoding, resizing, transforms, stitching on ${availableParallelism()} cores that onnxruntime also uses); load average ${load()}`);
  return `${(eff * 100).toFixed(0)} %`;
}

// ---------------------------------------------------------------------------------------------------------
// (c) peak RSS on 100k × 100k

async function peakRss(args: string[]): Promise<{ kib: number; seconds: number; stdout: string; how: string }> {
  const useTime = existsSync('/usr/bin/time');
  const [cmd, argv] = useTime ? ['/usr/bin/time', ['-v', process.execPath, ...args]] : [process.execPath, args];
  const t0 = performance.now();
  const child = spawn(cmd, argv, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: CLI_ENV });
  let stdout = '', stderr = '', hwm = 0;
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const poll = setInterval(() => {
    if (useTime) return;
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) hwm = Math.max(hwm, Number(m[1]));
    } catch { /* exited */ }
  }, 100);
  const code: number = await new Promise((res) => child.on('close', (c) => res(c ?? 1)));
  clearInterval(poll);
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`glassbox analyze failed (${code}): ${stderr.slice(-2000)}`);
  if (useTime) {
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
    if (!m) throw new Error(`no maximum RSS in /usr/bin/time output:\n${stderr.slice(-2000)}`);
    hwm = Number(m[1]);
  }
  return { kib: hwm, seconds, stdout, how: useTime ? '/usr/bin/time -v' : 'VmHWM polled every 100 ms' };
}

async function benchRss(pkg: string) {
  const slide = await syntheticSlide('synthetic-100k', BIG_SPEC);
  const out = mkdtempSync(join(tmpdir(), 'glassbox-bench-100k-'));
  try {
    console.log(`(c) peak RSS: glassbox analyze on ${slide} (100,000 × 100,000 px at 0.5 µm/px, glass + 5 tissue regions), class ${CLASS_100K}, batch ${BATCH}, ep cpu, no cache`);
    const r = await peakRss([CLI, 'analyze', slide, '--model', pkg, '--out', out, '--class', CLASS_100K, '--batch', String(BATCH), '--no-cache', '--ep', 'cpu', '--force']);
    const done = /done: (\d+) patches.* of (\d+) in the grid in ([\d.]+) s, ([\d.]+) patches\/s/.exec(r.stdout);
    const grid = /\(grid (\d+)×(\d+) cells/.exec(r.stdout);
    const mib = r.kib / 1024;
    console.log(`  ${done ? `${done[1]} tissue patches of ${done[2]} in the grid, ${done[4]} patches/s in the analysis stage; ` : ''}heatmap grid ${grid ? `${grid[1]}×${grid[2]}` : '?'} cells; `
      + `whole process ${f1(r.seconds)} s`);
    console.log(`  peak RSS ${mib.toFixed(0)} MiB (${r.how}) (goal < 1.5 GB = 1431 MiB: ${r.kib * 1024 < 1.5e9 ? 'met' : 'NOT met'}); load average ${load()}`);
    return `${mib.toFixed(0)} MiB`;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------

async function main() {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, torchvision, onnx, openslide'], { stdio: 'ignore' });
  if (probe.status !== 0) {
    console.log(`analysis bench skipped: ${PYTHON} with torch/torchvision/onnx/openslide is needed to build the model and the peer`);
    return;
  }
  const pkg = modelPackage();
  const small = await syntheticSlide('synthetic-he', SMALL_SPEC);
  const slides: Array<[string, string]> = [];
  if (existsSync(CMU)) slides.push(['CMU-1-Small-Region.svs', CMU]);
  else console.log(`  (CMU-1-Small-Region.svs not found at ${CMU}: synthetic slide only)`);
  slides.push([`synthetic H&E ${SMALL_SPEC.width}×${SMALL_SPEC.height}`, small]);
  const lines: string[] = [];
  if (ONLY.has('a')) lines.push(`glassbox ÷ PyTorch whole-slide Grad-CAM: ${(await benchCompare(pkg, slides)).join(', ')} (goal ≥ 3×)`);
  if (ONLY.has('b')) lines.push(`pipeline efficiency: ${await benchEfficiency(pkg, slides[slides.length - 1][0], small)} (goal ≥ 90 %)`);
  if (ONLY.has('c')) {
    if (SKIP_100K) console.log('(c) skipped (GLASSBOX_BENCH_SKIP_100K / GLASSBOX_BENCH_SKIP_SLOW)');
    else lines.push(`peak RSS on 100k × 100k: ${await benchRss(pkg)} (goal < 1.5 GB)`);
  }
  console.log(`summary: ${lines.join('; ')}`);
}

await main();
