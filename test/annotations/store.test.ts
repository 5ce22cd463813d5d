/**
 * The per-slide store: API, persistence, coalesced writes, corrupt files set aside with a message, bad input and bad
 * imports change nothing, slide fingerprints survive renames, and a crash test: a child process saving in a loop is
 * killed with SIGKILL at seeded random moments, many times; the store must always load, without notices, holding
 * exactly the acknowledged changes (plus at most the one in flight).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rng } from '../helpers/rng.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { fromGeoJSON, newAnnotation, openAnnotationStore, slideFingerprint, type Annotation } from '../../main/engine/annotations/index.js';
import { expectedIds, idOf } from './store-ops.js';

const dir = mkdtempSync(join(tmpdir(), 'gbx-store-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const rect = (x: number, name = ''): Annotation => newAnnotation({ shape: { kind: 'rectangle', x, y: 0, width: 10, height: 10 }, name });

test('store: put / get / list / delete / replaceAll / setClasses persist across reopen', async () => {
  const data = join(dir, 'basic');
  const s = await openAnnotationStore(data, 'slide1');
  assert.deepEqual(s.list(), []);
  assert.deepEqual(s.notices, []);
  const a = rect(1, 'a'), b = rect(2, 'b');
  await s.put(a);
  await s.put(b);
  await s.put({ ...a, name: 'a2' });
  assert.equal(s.get(a.id)?.name, 'a2');
  assert.equal(await s.delete(b.id), true);
  assert.equal(await s.delete(b.id), false);
  await s.setClasses([{ name: 'Tumor', color: [255, 0, 0] }]);
  const s2 = await openAnnotationStore(data, 'slide1');
  assert.deepEqual(s2.list(), [{ ...a, name: 'a2' }]);
  assert.deepEqual(s2.classes(), [{ name: 'Tumor', color: [255, 0, 0] }]);
  await s2.replaceAll([b]);
  assert.deepEqual((await openAnnotationStore(data, 'slide1')).list(), [b]);
  assert.deepEqual((await openAnnotationStore(data, 'slide1')).classes(), [{ name: 'Tumor', color: [255, 0, 0] }], 'classes kept unless given');
  // what list() returns is a copy: editing it changes nothing stored
  s2.list()[0].name = 'mutated';
  assert.equal(s2.get(b.id)?.name, 'b');
  await assert.rejects(openAnnotationStore(data, '../escape'), /store key must be/);
});

test('store: changes made without waiting are coalesced; every promise resolves once its change is on disk', async () => {
  const data = join(dir, 'burst');
  const s = await openAnnotationStore(data, 'k');
  const list = Array.from({ length: 50 }, (_, i) => rect(i));
  await Promise.all(list.map((a) => s.put(a)));
  const onDisk = JSON.parse(readFileSync(join(data, 'k.json'), 'utf8')) as { annotations: Annotation[] };
  assert.equal(onDisk.annotations.length, 50);
  assert.deepEqual(readdirSync(data), ['k.json'], 'no temp files left');
});

test('store: invalid input and bad imports change nothing (memory and file)', async () => {
  const data = join(dir, 'atomic');
  const s = await openAnnotationStore(data, 'k');
  await s.put(rect(0));
  const file = join(data, 'k.json');
  const before = readFileSync(file, 'utf8');
  const good = rect(5);
  const poly = newAnnotation({ shape: { kind: 'polygon' }, geometry: { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] } });
  const bad = { ...poly, geometry: { type: 'Polygon', coordinates: [[[0, 0], [1, NaN], [1, 1], [0, 0]]] } } as unknown as Annotation;
  await assert.rejects(s.putMany([good, bad]), /annotations\[1\]\.geometry\.coordinates\[0\]\[1\]: coordinates must be finite/);
  await assert.rejects(s.put({ ...rect(7), id: 'nope' }), /must be a UUID/);
  await assert.rejects(s.replaceAll([good, good]), /duplicate ids/);
  await assert.rejects(s.setClasses([{ name: '', color: [0, 0, 0] }]), /non-empty name/);
  // an import that fails part-way hands nothing to the store
  const importing = async (text: string) => s.putMany(fromGeoJSON(text).annotations);
  await assert.rejects(importing(JSON.stringify([{ type: 'Feature', geometry: { type: 'Point', coordinates: [1, 2] } }, { type: 'Feature', geometry: { type: 'Torus' } }])), /unsupported geometry type "Torus"/);
  await assert.rejects(importing('{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}}'), /not valid JSON/);
  await assert.rejects(async () => s.putMany(fromGeoJSON({ features: [{ type: 'Feature', geometry: { type: 'LineString', coordinates: Array.from({ length: 2000 }, (_, i) => [i, i]) } }] }, { limits: { maxVerticesTotal: 1000 } }).annotations), /import limit/);
  assert.equal(s.list().length, 1);
  assert.equal(readFileSync(file, 'utf8'), before);
});

test('store: a corrupt file is set aside with a message, never dropped or overwritten', async () => {
  const data = join(dir, 'corrupt');
  const s = await openAnnotationStore(data, 'k');
  await s.put(rect(1));
  const file = join(data, 'k.json');
  const good = readFileSync(file, 'utf8');
  writeFileSync(file, good.slice(0, good.length - 20)); // a truncated file
  const s2 = await openAnnotationStore(data, 'k');
  assert.equal(s2.notices.length, 1);
  assert.match(s2.notices[0], /could not be read \(.*JSON.*\); it was set aside as k\.json\.corrupt-\d{4}-\d\d-\d\dT[\d-]+Z and this slide starts with no annotations/);
  assert.deepEqual(s2.list(), []);
  const aside = readdirSync(data).find((n) => n.startsWith('k.json.corrupt-'))!;
  assert.equal(readFileSync(join(data, aside), 'utf8'), good.slice(0, good.length - 20), 'the bytes are kept as they were');
  assert.ok(!existsSync(file), 'moved, not copied: the next save cannot overwrite it');
  await s2.put(rect(2));
  assert.equal(readFileSync(join(data, aside), 'utf8'), good.slice(0, good.length - 20), 'still intact after a save');
  // a file of another format / version
  writeFileSync(file, JSON.stringify({ format: 'glassbox-annotations', version: 99, annotations: [], classes: [] }));
  assert.match((await openAnnotationStore(data, 'k')).notices[0], /format version 99/);
});

test('store: a file with some unreadable annotations loads the rest and keeps a copy of the original', async () => {
  const data = join(dir, 'partial');
  const s = await openAnnotationStore(data, 'k');
  const a = rect(1), b = rect(2);
  await s.putMany([a, b]);
  const file = join(data, 'k.json');
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  doc.annotations[1].shape = { kind: 'hexagon' };
  writeFileSync(file, JSON.stringify(doc));
  const s3 = await openAnnotationStore(data, 'k');
  assert.deepEqual(s3.list(), [a]);
  assert.match(s3.notices[0], /1 item\(s\) of the annotation store k\.json could not be read and were skipped \(annotations\[1\]\.shape: unknown shape kind "hexagon"\); the original file was kept as k\.json\.corrupt-/);
  const copies = readdirSync(data).filter((n) => n.startsWith('k.json.corrupt-'));
  assert.ok(copies.length >= 1);
  assert.ok(copies.some((n) => readFileSync(join(data, n), 'utf8') === JSON.stringify(doc)));
});

test('store: temp files of dead writers are removed on open', async () => {
  const data = join(dir, 'temps');
  await openAnnotationStore(data, 'k');
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
  writeFileSync(join(data, `k.json.tmp-${dead}-abc`), '{"half');
  writeFileSync(join(data, `k.json.tmp-${process.pid}-live`), 'mine');
  await openAnnotationStore(data, 'k');
  assert.deepEqual(readdirSync(data).sort(), [`k.json.tmp-${process.pid}-live`]);
});

test('slideFingerprint: the same bytes under another name match; any changed sample differs', async () => {
  const big = join(dir, 'slide.bin');
  const bytes = Buffer.alloc(5 * 1024 * 1024);
  for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (i / 4096) & 255;
  writeFileSync(big, bytes);
  const fp = await slideFingerprint(big);
  assert.match(fp, /^[0-9a-f]{64}$/);
  copyFileSync(big, join(dir, 'copy.bin'));
  renameSync(join(dir, 'copy.bin'), join(dir, 'renamed.svs'));
  assert.equal(await slideFingerprint(join(dir, 'renamed.svs')), fp);
  for (const at of [10, bytes.length / 2, bytes.length - 10]) {
    const other = Buffer.from(bytes);
    other[at] ^= 1;
    writeFileSync(join(dir, 'other.bin'), other);
    assert.notEqual(await slideFingerprint(join(dir, 'other.bin')), fp, `a byte changed at ${at}`);
  }
  writeFileSync(join(dir, 'small.bin'), 'abc');
  assert.notEqual(await slideFingerprint(join(dir, 'small.bin')), fp);
  // a multi-file slide (a DICOM series): one file = that file's fingerprint; several = over each, in order
  assert.equal(await slideFingerprint([big]), fp);
  const pair = await slideFingerprint([big, join(dir, 'small.bin')]);
  assert.notEqual(pair, fp);
  assert.notEqual(await slideFingerprint([join(dir, 'small.bin'), big]), pair);
  await assert.rejects(slideFingerprint([]), /no files/);
});

/** runs the child until it has acknowledged a few ops, kills it at a random moment; returns the last acknowledged op */
function runAndKill(data: string, key: string, delayMs: number): Promise<{ acked: number; killedAt: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test/annotations/store-child.ts'), data, key], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '', acked = -1, err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        if (l === 'ready') setTimeout(() => child.kill('SIGKILL'), delayMs);
        else acked = Number(l);
      }
    });
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited ${code}: ${err}`));
      else resolve({ acked, killedAt: `${delayMs} ms` });
    });
  });
}

test('crash safety: kill -9 during saves in a loop, many times — the store always loads and loses at most the change in flight', async () => {
  const rand = rng(9);
  const data = join(dir, 'crash');
  let midWrite = 0;
  // until 3 kills have landed mid-write (a temp file left behind), at least 6 and at most 16 kills
  let runs = 0;
  for (let run = 0; run < 16 && (run < 6 || midWrite < 3); run++, runs++) {
    const key = `run${run}`;
    const { acked } = await runAndKill(data, key, 30 + Math.floor(rand() * 400));
    const temps = readdirSync(data).filter((n) => n.startsWith(`${key}.json.tmp-`));
    if (temps.length) midWrite++;
    const s = await openAnnotationStore(data, key);
    assert.deepEqual(s.notices, [], `run ${run}: the store loads cleanly`);
    const ids = new Set(s.list().map((a) => a.id));
    const ok = [acked + 1, acked + 2].some((n) => {
      const want = expectedIds(n);
      return want.size === ids.size && [...want].every((id) => ids.has(id));
    });
    assert.ok(ok, `run ${run}: after ${acked + 1} acknowledged ops the store holds ${[...ids].length} annotations, not the state after ${acked + 1} or ${acked + 2} ops`);
    for (const a of s.list()) assert.equal(a.measurements.op, Number.parseInt(a.id.slice(-12), 16), 'each annotation whole');
    if (acked >= 0) assert.ok(ids.has(idOf(0)) || acked >= 7, 'the first change survived');
    assert.ok(readdirSync(data).every((n) => !n.startsWith(`${key}.json.tmp-`)), 'the dead writer\'s temp file was removed on open');
  }
  console.log(`# ${runs} kills; ${midWrite} landed while a temp file was being written (uptime: ${readFileSync('/proc/loadavg', 'utf8').trim()})`);
  assert.ok(midWrite > 0, 'some kills must land in the middle of a write, or the test proves little');
});
