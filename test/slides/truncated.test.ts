/**
 * Real slides cut short (a partial download / copy): the parts past the cut must not vanish silently.
 * Level 0 intact -> the slide opens without the lost IFDs and properties.warnings says what was skipped
 * and why (never as a vendor property); level 0 cut -> the open fails with CORRUPT. Cut copies are written to a tmp dir (never the repo).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSlide, SlideError } from '../../main/engine/slide/index.js';
import { SHARED_SLIDES, SKIP_NO_SLIDES } from '../helpers/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'glassbox-trunc-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function cut(name: string, bytes: number): string {
  const buf = Buffer.alloc(bytes);
  const fd = openSync(join(SHARED_SLIDES, name), 'r');
  try { readSync(fd, buf, 0, bytes, 0); } finally { closeSync(fd); }
  const p = join(dir, `cut${bytes}-${name}`);
  writeFileSync(p, buf);
  return p;
}

test('TCGA SVS cut at 3 MB: opens with level 0 only and a warning naming the skipped IFDs', { skip: SKIP_NO_SLIDES }, async () => {
  const full = await openSlide(join(SHARED_SLIDES, 'tcga-cr-7395-01a-01-ts1.svs'));
  const fullLevels = full.properties.levels.length, fullAssoc = full.properties.associatedImages;
  assert.deepEqual(full.properties.warnings, [], 'the intact file has no warning');
  await full.close();
  assert.ok(fullLevels > 1 && fullAssoc.includes('thumbnail'));
  const s = await openSlide(cut('tcga-cr-7395-01a-01-ts1.svs', 3_000_000));
  try {
    assert.equal(s.properties.levels.length, 1);
    assert.deepEqual(s.properties.associatedImages, []);
    assert.deepEqual(s.properties.warnings, ['IFD 1 and any after it were skipped (its offset 3171696 lies past the end of the file (3000000 bytes): truncated file)']);
    assert.deepEqual(Object.keys(s.properties.raw).filter((k) => k.startsWith('glassbox.')).filter((k) => /warning|skipped/.test(k)), [], 'no warning among the properties');
    const r = await s.readRegion(4000, 3000, 0, 64, 64); // level 0 is whole: its far corner reads
    assert.equal(r.data.length, 64 * 64 * 3);
  } finally { await s.close(); }
});

test('CMU SVS cut at 1.9 MB: opens without the macro, with a warning', { skip: SKIP_NO_SLIDES }, async () => {
  const s = await openSlide(cut('CMU-1-Small-Region.svs', 1_900_000));
  try {
    assert.deepEqual(s.properties.associatedImages, ['label', 'thumbnail']);
    assert.equal(s.properties.warnings.length, 1);
    assert.match(s.properties.warnings[0], /^IFD 3 and any after it were skipped \(its offset 1938212 lies past the end of the file \(1900000 bytes\)/);
    await s.readAssociated('label');
  } finally { await s.close(); }
});

test('CMU SVS cut before its first IFD (level 0 lost): the open fails', { skip: SKIP_NO_SLIDES }, async () => {
  // (level 0 intact as an IFD but with tile data past EOF is covered with generated files in bad-input.test.ts)
  const p = cut('CMU-1-Small-Region.svs', 1_000_000);
  let err: unknown;
  try { await (await openSlide(p)).close(); } catch (e) { err = e; }
  assert.ok(err instanceof SlideError && err.code === 'CORRUPT', String(err));
  assert.match(err.message, /IFD offset 1275950 lies outside the file \(1000000 bytes\): truncated/);
});
