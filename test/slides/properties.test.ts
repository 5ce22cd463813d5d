/**
 * Property normalisation: locale-free parsing, mpp from TIFF resolution tags (inch / cm / none / zero
 * denominator / placeholder), OME PhysicalSize units, user override, an OME-TIFF composite with Channel colours.
 * Fixtures: test/fixtures/tiff-writer.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSlide } from '../../main/engine/slide/index.js';
import { parseDecimal, toMicrometres } from '../../main/engine/slide/properties.js';
import { writeTiff, type ImageSpec, type TagSpec } from '../fixtures/tiff-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'glassbox-props-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function slideFile(images: ImageSpec[], opts = {}): string {
  const p = join(dir, `p${n++}.tif`);
  writeFileSync(p, writeTiff(images, opts).bytes);
  return p;
}
const res = (x: [number, number], y: [number, number], unit?: number): TagSpec[] => [
  { tag: 282, type: 'RATIONAL', values: x }, { tag: 283, type: 'RATIONAL', values: y },
  ...(unit === undefined ? [] : [{ tag: 296, type: 'SHORT' as const, values: [unit] }]),
];

test('properties: parseDecimal is locale-free and strict', () => {
  assert.equal(parseDecimal('0.4990'), 0.499);
  assert.equal(parseDecimal(' 20 '), 20);
  assert.equal(parseDecimal('1e-3'), 0.001);
  assert.equal(parseDecimal('0,25'), 0.25);
  for (const bad of ['', '20x', '1.2.3', 'NaN', 'Infinity', '1,000.5', undefined]) assert.equal(parseDecimal(bad), null, String(bad));
  assert.equal(toMicrometres(250, 'nm'), 0.25);
  assert.equal(toMicrometres(0.0005, 'mm'), 0.5);
  assert.equal(toMicrometres(0.5, undefined), 0.5, 'OME default unit is µm');
  assert.equal(toMicrometres(1, 'pixel'), null);
  assert.equal(toMicrometres(0, 'µm'), null);
});

test('properties: mpp from TIFF resolution tags, with unknowns and placeholders rejected', async () => {
  const img = (tags: TagSpec[]): ImageSpec => ({ width: 64, height: 64, tile: [32, 32], tags });
  const cases: Array<[string, TagSpec[], number | null, RegExp | null]> = [
    ['cm', res([40000, 1], [20000, 1], 3), 0.25, null],
    ['inch', res([101600, 1], [101600, 1], 2), 0.25, null],
    ['no unit tag = inch (TIFF default)', res([50800, 1], [50800, 1]), 0.5, null],
    ['unit none', res([40000, 1], [40000, 1], 1), null, /ResolutionUnit 1 \(none\)/],
    ['zero denominator', res([0, 1000], [0, 1000], 3), null, /zero or undefined/],
    ['x/0', res([40000, 0], [40000, 0], 3), null, /zero or undefined/],
    ['72 dpi placeholder', res([72, 1], [72, 1], 2), null, /placeholder/],
    ['28.35 px/cm placeholder', res([2834646, 100000], [2834646, 100000], 3), null, /352\.778 µm\/px is a placeholder/],
    ['missing', [], null, /no XResolution/],
  ];
  for (const [name, tags, mpp, note] of cases) {
    const s = await openSlide(slideFile([img(tags)]));
    try {
      const p = s.properties;
      if (mpp === null) {
        assert.equal(p.mpp, null, name);
        assert.match(p.raw['glassbox.mpp-note'], note!, name);
      } else {
        assert.ok(p.mpp, name);
        assert.ok(Math.abs(p.mpp.x - mpp) < 1e-9, `${name}: ${p.mpp.x}`);
        assert.equal(p.mpp.source, 'tiff-resolution');
      }
    } finally { await s.close(); }
  }
  // y differs from x
  const s = await openSlide(slideFile([img(res([40000, 1], [20000, 1], 3))]));
  try { assert.deepEqual(s.properties.mpp, { x: 0.25, y: 0.5, source: 'tiff-resolution' }); } finally { await s.close(); }
});

test('properties: user override wins and is validated', async () => {
  const f = slideFile([{ width: 64, height: 64, tile: [32, 32], tags: res([40000, 1], [40000, 1], 3) }]);
  const s = await openSlide(f, { mppOverride: { x: 0.3, y: 0.31 } });
  try { assert.deepEqual(s.properties.mpp, { x: 0.3, y: 0.31, source: 'user' }); } finally { await s.close(); }
  await assert.rejects(openSlide(f, { mppOverride: { x: 0, y: 1 } }), /mppOverride must be positive/);
});

function omeXml(channels: string, px: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" Creator="glassbox test">` +
    `<Instrument ID="Instrument:0"><Objective ID="Objective:0" NominalMagnification="40.0"/></Instrument>` +
    `<Image ID="Image:0" Name="t"><Pixels DimensionOrder="XYCZT" ID="Pixels:0" SizeC="2" SizeT="1" SizeX="64" SizeY="48" SizeZ="1" Type="uint8" ${px}>` +
    `${channels}<TiffData FirstC="0" IFD="0" PlaneCount="1"/><TiffData FirstC="1" IFD="1" PlaneCount="1"/></Pixels></Image></OME>`;
}

test('properties: OME-TIFF composite: channel colours, measured ranges, PhysicalSize in nm, SubIFD pyramid', async () => {
  const plane = (v0: number, v1: number) => {
    const a = new Uint8Array(64 * 48);
    for (let i = 0; i < a.length; i++) a[i] = i % 64 < 32 ? v0 : v1;
    return a;
  };
  const half = (v: number) => new Uint8Array(32 * 24).fill(v);
  // channel 0: 10 / 110 (colour magenta: -16711681 = 0xFF00FFFF RGBA); channel 1: 50 / 250, default colour
  const channels = `<Channel ID="Channel:0:0" Name="DAPI" SamplesPerPixel="1" Color="-16711681"/><Channel ID="Channel:0:1" Name="FITC" SamplesPerPixel="1"/>`;
  // padded past a few KiB, as real OME-XML is (the description must still be read at open)
  const xml = omeXml(channels, 'PhysicalSizeX="250" PhysicalSizeXUnit="nm" PhysicalSizeY="0.25"').replace('<Instrument', `<!-- ${'padding '.repeat(2000)} --><Instrument`);
  const ch = (px: Uint8Array, sub: Uint8Array, desc?: string): ImageSpec => ({
    width: 64, height: 48, spp: 1, photometric: 1, pixels: px, tile: [32, 16], compression: 8,
    tags: desc ? [{ tag: 270, type: 'ASCII', values: desc }] : [],
    subIfds: [{ width: 32, height: 24, spp: 1, photometric: 1, pixels: sub, tile: [32, 16], newSubfileType: 1 }],
  });
  const f = slideFile([ch(plane(10, 110), half(60), xml), ch(plane(50, 250), half(150))], { littleEndian: false });
  const s = await openSlide(f);
  try {
    const p = s.properties;
    assert.equal(p.format, 'ome-tiff');
    assert.equal(p.vendor, 'ome');
    assert.deepEqual(p.levels.map((l) => [l.width, l.height, l.downsample]), [[64, 48, 1], [32, 24, 2]]);
    assert.deepEqual(p.mpp, { x: 0.25, y: 0.25, source: 'vendor' });
    assert.equal(p.objectivePower, 40);
    assert.equal(p.pixel.channels, 2);
    assert.equal(p.raw['ome.Channel[0].Name'], 'DAPI');
    assert.equal(p.raw['glassbox.channel[0].color'], '#ff00ff');
    assert.equal(p.raw['glassbox.channel[1].color'], '#00ff00');
    // ranges measured on the smallest level (constant 60 and 150): the mapping is stated in raw
    assert.equal(p.raw['glassbox.channel[0].range'], '60..60');
    const r = await s.readRegion(0, 0, 1, 2, 1);
    // a flat smallest level gives a zero-width range: values at the range map to 0, no division by zero
    assert.equal(r.data.length, 6);
  } finally { await s.close(); }
  // with a real spread on the smallest level: channel 0 left 10 / right 110, channel 1 left 50 / right 250
  const f2 = slideFile([
    { ...ch(plane(10, 110), new Uint8Array(0), xml), subIfds: [] },
    { ...ch(plane(50, 250), new Uint8Array(0)), subIfds: [] },
  ]);
  const s2 = await openSlide(f2);
  try {
    const p = s2.properties;
    assert.equal(p.levels.length, 1);
    assert.equal(p.raw['glassbox.channel[0].range'], '10..110');
    assert.equal(p.raw['glassbox.channel[1].range'], '50..250');
    const r = await s2.readRegion(0, 0, 0, 64, 1);
    // left: both channels at their minimum -> black; right: magenta + green at full -> white
    assert.deepEqual([...r.data.subarray(0, 3)], [0, 0, 0]);
    assert.deepEqual([...r.data.subarray(40 * 3, 40 * 3 + 3)], [255, 255, 255]);
  } finally { await s2.close(); }
});
