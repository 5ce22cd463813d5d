/**
 * A DICOM series (a folder) through the services, as the viewer uses it: Deep Zoom tiles, and annotations keyed by
 * the series' content (the folder and any file of the series share one store).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { SHARED_SLIDES, SKIP_NO_SLIDES } from '../helpers/paths.js';
import { urls, type SlideInfoDTO } from '../../main/contract/slides.js';
import { annotationUrls, type AnnotationSetDTO } from '../../main/contract/annotations.js';
import { directTransport } from '../contract/transports.js';
import { handParsePixelData } from './dicom-writer.js';

const WSI2DCM = join(SHARED_SLIDES, 'CMU-1-Small-Region.wsi2dcm');

function fragments(file: string): Uint8Array[] {
  const p = handParsePixelData(readFileSync(file));
  assert.ok('fragments' in p, `${file}: encapsulated`);
  return p.fragments;
}

test('dicom: Deep Zoom tiles of a DICOM folder through the service (pass-through at the base level), a plain folder refused', { skip: SKIP_NO_SLIDES }, async () => {
  const t = await directTransport();
  try {
    const r = await t.fetch(urls.slides(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: WSI2DCM }) });
    assert.equal(r.status, 200);
    const info = (await r.json()) as SlideInfoDTO;
    assert.equal(info.format, 'dicom');
    assert.equal(info.name, 'CMU-1-Small-Region.wsi2dcm');
    const xml = await (await t.fetch(urls.dzi(info.id))).text();
    assert.match(xml, /TileSize="500"/);
    assert.match(xml, /Width="2220" Height="2967"/);
    const maxLevel = Math.ceil(Math.log2(2967));
    const base = new Uint8Array(await (await t.fetch(urls.dziTile(info.id, maxLevel, 1, 1))).arrayBuffer());
    assert.deepEqual(Buffer.from(base), Buffer.from(fragments(join(WSI2DCM, 'level-0-frames-0-30.dcm'))[6]), 'base tile is the frame');
    const edge = await sharp(new Uint8Array(await (await t.fetch(urls.dziTile(info.id, maxLevel, 4, 5))).arrayBuffer())).metadata();
    assert.deepEqual([edge.width, edge.height], [220, 467], 'edge tile cropped to the slide');
    const low = await sharp(new Uint8Array(await (await t.fetch(urls.dziTile(info.id, maxLevel - 3, 0, 0))).arrayBuffer())).metadata();
    assert.deepEqual([low.width, low.height], [278, 371]);
    const folder = await t.fetch(urls.slides(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: join(SHARED_SLIDES, 'info') }) });
    assert.equal(folder.status, 404);
    assert.match(((await folder.json()) as { error: { message: string } }).error.message, /is a directory/);
  } finally {
    await t.close();
  }
});

test('dicom: annotations of a DICOM series are one store whether the folder or a file of it was opened', { skip: SKIP_NO_SLIDES }, async () => {
  const t = await directTransport();
  const send = (path: string, body: unknown) => t.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  try {
    const byFolder = (await (await send(urls.slides(), { path: WSI2DCM })).json()) as SlideInfoDTO;
    const byFile = (await (await send(urls.slides(), { path: join(WSI2DCM, 'level-3-frames-0-1.dcm') })).json()) as SlideInfoDTO;
    const id = '6f1c2a4e-8b7d-4c3a-9e2f-1a2b3c4d5e6f';
    const put = await send(annotationUrls.set(byFolder.id), { annotations: [{ id, shape: { kind: 'rectangle', x: 10, y: 20, width: 300, height: 400 }, name: 'dicom box' }] });
    assert.equal(put.status, 200, await put.clone().text());
    const r = await t.fetch(annotationUrls.set(byFile.id));
    assert.equal(r.status, 200);
    const set = (await r.json()) as AnnotationSetDTO;
    assert.deepEqual(set.annotations.map((a) => [a.id, a.name]), [[id, 'dicom box']]);
  } finally {
    await t.close();
  }
});
