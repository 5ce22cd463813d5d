/**
 * QuPath GeoJSON and ASAP XML: exact round trips of every kind of annotation; QuPath's own forms (v0.4+ and v0.2)
 * and ASAP files as their sources write them; bad imports give a clear error; the measurements CSV.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  newAnnotation, toGeoJSON, stringifyGeoJSON, fromGeoJSON, toAsapXml, fromAsapXml, measurementsCsv, csvField,
  type Annotation, type Geometry,
} from '../../main/engine/annotations/index.js';

const NOW = new Date('2026-12-01T10:00:00.000Z');
const TUMOR = { name: 'Tumor', color: [200, 0, 0] as [number, number, number] };

/** one of each kind, with awkward values: fractional and large coordinates, quotes, newlines, unicode, holes */
function sample(): Annotation[] {
  return [
    newAnnotation({ shape: { kind: 'rectangle', x: 10.25, y: 20, width: 300.125, height: 1e-3 }, name: 'rect "A" <&>', classification: TUMOR, now: NOW }),
    newAnnotation({ shape: { kind: 'ellipse', cx: 1234.5, cy: 99999.75, rx: 40, ry: 12.3 }, description: 'line 1\nline 2, "quoted"', isLocked: true, now: NOW }),
    newAnnotation({
      shape: { kind: 'polygon' }, now: NOW, name: 'Stroma — µm²', classification: { name: 'Stroma: dense', color: [0, 128, 255] },
      geometry: { type: 'Polygon', coordinates: [[[0, 0], [100, 0], [100, 100], [0, 100], [0, 0]], [[10, 10], [10, 20], [20, 20], [20, 10], [10, 10]]] },
      measurements: { 'Area µm^2': 2475.0000000001, 'Heatmap mean': 0.1 + 0.2 }, color: [1, 2, 3], metadata: { source: 'pen' },
    }),
    newAnnotation({
      shape: { kind: 'multipolygon' }, now: NOW, provenance: { source: 'heatmap', heatmap: { file: 'heatmap.npy', class: 'tumor' }, threshold: 0.5, percentile: 95 },
      geometry: { type: 'MultiPolygon', coordinates: [[[[0, 0], [1, 0], [1, 1], [0, 0]]], [[[5, 5], [9, 5], [9, 9], [5, 9], [5, 5]], [[6, 6], [6, 7], [7, 7], [6, 6]]]] },
    }),
    newAnnotation({ shape: { kind: 'point' }, geometry: { type: 'Point', coordinates: [3.14159, 2.71828] }, now: NOW }),
    newAnnotation({ shape: { kind: 'point' }, geometry: { type: 'MultiPoint', coordinates: [[1, 2], [3, 4], [5, 6]] }, now: NOW }),
    newAnnotation({ shape: { kind: 'polyline' }, geometry: { type: 'LineString', coordinates: [[0, 0], [10, 10], [20, 5]] }, now: NOW }),
    newAnnotation({ shape: { kind: 'polyline' }, geometry: { type: 'LineString', coordinates: [[0, 0], [0.1, 1e6]] }, now: NOW }),
    newAnnotation({ shape: { kind: 'freehand' }, geometry: { type: 'Polygon', coordinates: [[[0, 0], [3, 1], [2, 4], [0, 0]]] }, now: NOW }),
  ];
}

test('GeoJSON round trip is exact (every kind, holes, unicode, metadata, provenance)', () => {
  const list = sample();
  const text = stringifyGeoJSON(list);
  const back = fromGeoJSON(text, { now: new Date('2030-01-01T00:00:00Z') });
  assert.deepEqual(back.annotations, list);
  assert.deepEqual(back.warnings, []);
  assert.deepEqual(back.classes.map((c) => c.name), ['Tumor', 'Stroma: dense']);
  assert.equal(stringifyGeoJSON(back.annotations), text, 'byte-identical second export');
});

test('GeoJSON export is QuPath dialect: Feature id, objectType, classification {name, color}, isLocked, measurements object, isEllipse', () => {
  const fc = toGeoJSON(sample());
  assert.equal(fc.type, 'FeatureCollection');
  const [rect, ell, poly] = fc.features as Array<{ type: string; id: string; geometry: Record<string, unknown>; properties: Record<string, unknown> }>;
  assert.equal(rect.type, 'Feature');
  assert.match(rect.id, /^[0-9a-f-]{36}$/);
  assert.equal(rect.properties.objectType, 'annotation');
  assert.deepEqual(rect.properties.classification, { name: 'Tumor', color: [200, 0, 0] });
  assert.equal(rect.properties.isLocked, false);
  assert.equal(ell.properties.isLocked, true);
  assert.equal(ell.geometry.isEllipse, true);
  assert.equal(ell.geometry.type, 'Polygon');
  assert.deepEqual(poly.properties.measurements, { 'Area µm^2': 2475.0000000001, 'Heatmap mean': 0.30000000000000004 });
  assert.deepEqual(poly.properties.color, [1, 2, 3]);
  assert.deepEqual(poly.properties.metadata, { source: 'pen' });
  assert.ok(!('name' in ell.properties), 'no name → no name property (as QuPath)');
});

test('GeoJSON import of QuPath forms: v0.4+ FeatureCollection, v0.2 array with list measurements and colorRGB, bare Feature, names[], string class', () => {
  const v04 = {
    type: 'FeatureCollection',
    features: [{
      type: 'Feature', id: '7E5B0C3A-1111-4222-8333-944445555666',
      geometry: { type: 'Polygon', coordinates: [[[0, 0], [50, 0], [50, 40], [0, 40], [0, 0]]] },
      properties: { objectType: 'annotation', name: 'R1', classification: { name: 'Tumor', color: [200, 0, 0] }, isLocked: true, measurements: { 'Num Detections': 12, Broken: null } },
    }, {
      type: 'Feature', id: 'e0c3d3f8-0000-4000-8000-000000000001',
      geometry: { type: 'Polygon', coordinates: [[[10, 10], [30, 10], [30, 20], [12, 21], [10, 10]]], isEllipse: true, plane: { c: -1, z: 2, t: 0 } },
      properties: { objectType: 'detection', classification: { names: ['Tumor', 'Positive'], color: [10, 20, 30, 128] } },
    }],
  };
  const r = fromGeoJSON(JSON.stringify(v04), { file: 'x.geojson' });
  const [a, b] = r.annotations;
  assert.equal(a.id, '7e5b0c3a-1111-4222-8333-944445555666');
  assert.deepEqual(a.shape, { kind: 'rectangle', x: 0, y: 0, width: 50, height: 40 });
  assert.equal(a.isLocked, true);
  assert.deepEqual(a.measurements, { 'Num Detections': 12 });
  assert.deepEqual(a.provenance, { source: 'import', format: 'geojson', file: 'x.geojson' });
  assert.deepEqual(b.shape, { kind: 'ellipse', cx: 20, cy: 15.5, rx: 10, ry: 5.5 });
  assert.deepEqual(b.classification, { name: 'Tumor: Positive', color: [10, 20, 30] });
  assert.ok(r.warnings.some((w) => /1 detection object\(s\) imported as annotations/.test(w)), r.warnings.join('; '));
  assert.ok(r.warnings.some((w) => /plane .* ignored/.test(w)));
  assert.ok(r.warnings.some((w) => /1 measurement\(s\) without a finite value skipped/.test(w)));
  assert.ok(r.warnings.some((w) => /alpha ignored/.test(w)));

  // QuPath v0.2: a bare array, the type in "id", measurements as a list, colorRGB packed ARGB, object colour as an int
  const v02 = [{
    type: 'Feature', id: 'PathAnnotationObject',
    geometry: { type: 'LineString', coordinates: [[1, 1], [5, 5]] },
    properties: { classification: { name: 'Other', colorRGB: -16744448 }, color: -65536, isLocked: false, measurements: [{ name: 'Length µm', value: 2.5 }] },
  }];
  const [c] = fromGeoJSON(v02).annotations;
  assert.match(c.id, /^[0-9a-f-]{36}$/);
  assert.deepEqual(c.classification, { name: 'Other', color: [0, 128, 0] });
  assert.deepEqual(c.color, [255, 0, 0]);
  assert.deepEqual(c.measurements, { 'Length µm': 2.5 });
  assert.deepEqual(c.shape, { kind: 'polyline' });
  // QuPath's Gson writes NaN / Infinity bare (serializeSpecialFloatingPointValues): read as missing values
  const nan = '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}, "properties": {"name": "NaN Infinity", "measurements": {"a": NaN, "b": -Infinity, "c": 1.5}}}';
  const n = fromGeoJSON(nan);
  assert.deepEqual(n.annotations[0].measurements, { c: 1.5 });
  assert.equal(n.annotations[0].name, 'NaN Infinity', 'tokens inside strings untouched');
  assert.ok(n.warnings.some((w) => /2 measurement\(s\) without a finite value skipped/.test(w)));
  assert.throws(() => fromGeoJSON('{"type": "Feature", "geometry": {"type": "Point", "coordinates": [NaN, 2]}}'), /coordinates must be finite numbers/);
  // a single Feature, a string classification, no properties at all
  const [d] = fromGeoJSON({ type: 'Feature', geometry: { type: 'Point', coordinates: [1, 2] }, properties: { classification: 'Immune cells' } }).annotations;
  assert.equal(d.classification?.name, 'Immune cells');
  assert.equal(d.classification?.color.length, 3);
  const [e] = fromGeoJSON([{ type: 'Feature', geometry: { type: 'MultiPoint', coordinates: [[1, 2, 0]] } }]).annotations;
  assert.deepEqual(e.geometry, { type: 'MultiPoint', coordinates: [[1, 2]] });
  assert.equal(e.name, '');
  assert.equal(e.classification, null);
});

test('GeoJSON import: unclosed / reversed rings are fixed with a warning; duplicate ids get new ones', () => {
  const id = '11111111-2222-4333-8444-555555555555';
  const f = (coords: number[][][]) => ({ type: 'Feature', id, geometry: { type: 'Polygon', coordinates: coords }, properties: {} });
  const r = fromGeoJSON([f([[[0, 0], [0, 10], [10, 10]]]), f([[[0, 0], [10, 0], [10, 10], [0, 0]]])]);
  assert.deepEqual((r.annotations[0].geometry as Extract<Geometry, { type: 'Polygon' }>).coordinates[0], [[10, 10], [0, 10], [0, 0], [10, 10]]);
  assert.ok(r.warnings.some((w) => /not closed/.test(w)));
  assert.ok(r.warnings.some((w) => /orientation reversed/.test(w)));
  assert.equal(r.annotations[0].id, id);
  assert.notEqual(r.annotations[1].id, id);
  assert.ok(r.warnings.some((w) => /duplicate id/.test(w)));
});

test('bad GeoJSON: a clear error naming the problem', () => {
  const feat = (geometry: unknown, properties: unknown = {}) => JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', geometry, properties }] });
  const cases: Array<[string, RegExp]> = [
    ['{"type": "FeatureCollection", "features": [', /not valid JSON/],
    ['{"type": "Topology"}', /expected a GeoJSON FeatureCollection/],
    ['{"type": "Polygon", "coordinates": []}', /bare Polygon geometry has no properties/],
    [feat({ type: 'Circle', coordinates: [1, 2] }), /features\[0\]\.geometry: unsupported geometry type "Circle"/],
    [feat({ type: 'GeometryCollection', geometries: [] }), /unsupported geometry type "GeometryCollection"/],
    [feat({ type: 'MultiLineString', coordinates: [[[0, 0], [1, 1]]] }), /unsupported geometry type "MultiLineString"/],
    [feat(null), /features\[0\]: no geometry/],
    [feat({ type: 'Polygon', coordinates: [[[0, 0], [1, 'a'], [1, 1], [0, 0]]] }), /features\[0\]\.geometry\.coordinates\[0\]\[1\]: coordinates must be finite numbers/],
    [feat({ type: 'Polygon', coordinates: [[[0, 0], [1, 1], [0, 0]]] }), /at least 3 distinct vertices/],
    [feat({ type: 'Polygon', coordinates: [[[0, 0], [1e12, 0], [1, 1], [0, 0]]] }), /beyond ±1000000000 px/],
    [feat({ type: 'Point', coordinates: [1, 2] }, { isLocked: 'yes' }), /isLocked: must be true or false/],
    [feat({ type: 'Point', coordinates: [1, 2] }, { classification: { name: 'A', color: [300, 0, 0] } }), /classification\.color: a colour must be \[r, g, b\]/],
    [feat({ type: 'Point', coordinates: [1, 2] }, { measurements: 'many' }), /measurements must be an object or a list/],
    [JSON.stringify({ features: [{ type: 'Feature', geometry: { type: 'Point', coordinates: [1, 2] } }, 7] }), /features\[1\]: a Feature must be an object/],
  ];
  for (const [text, re] of cases) {
    assert.throws(() => fromGeoJSON(text), (e: Error & { code?: string }) => {
      assert.match(e.message, re);
      assert.ok(['BAD_IMPORT', 'UNKNOWN_GEOMETRY', 'TOO_LARGE'].includes(e.code!), `${e.code}: ${e.message}`);
      return true;
    }, text.slice(0, 80));
  }
});

test('import limits: too many vertices in all, per annotation, too many objects, too many bytes', () => {
  const ring = (n: number) => [...Array.from({ length: n }, (_, i) => [Math.cos(i), Math.sin(i)]), [1, 0]];
  const fc = (rings: number[][][]) => ({ type: 'FeatureCollection', features: rings.map((r) => ({ type: 'Feature', geometry: { type: 'Polygon', coordinates: [r] } })) });
  assert.throws(() => fromGeoJSON(fc([ring(600), ring(600)]), { limits: { maxVerticesTotal: 1000 } }), { code: 'TOO_LARGE', message: /more than 1,000 vertices in all/ });
  assert.throws(() => fromGeoJSON(fc([ring(600)]), { limits: { maxVerticesPerAnnotation: 500 } }), { code: 'TOO_LARGE', message: /features\[0\]\.geometry\.coordinates: more than 500 vertices/ });
  assert.throws(() => fromGeoJSON(fc([ring(5), ring(5), ring(5)]), { limits: { maxAnnotations: 2 } }), { code: 'TOO_LARGE', message: /3 objects; the import limit is 2/ });
  assert.throws(() => fromGeoJSON(JSON.stringify(fc([ring(50)])), { limits: { maxBytes: 100 } }), { code: 'TOO_LARGE', message: /bytes; the import limit is 100/ });
  assert.equal(fromGeoJSON(fc([ring(600)])).annotations.length, 1);
});

test('ASAP round trip is exact (holes and multipolygons via the Glassbox attribute)', () => {
  const list = sample();
  const xml = toAsapXml(list, [{ name: 'Unused', color: [9, 9, 9] }]);
  const back = fromAsapXml(xml);
  assert.deepEqual(back.annotations, list);
  assert.deepEqual(back.classes.map((c) => c.name), ['Unused', 'Tumor', 'Stroma: dense']);
  assert.equal(toAsapXml(back.annotations, back.classes), xml, 'byte-identical second export');
});

test('ASAP export is ASAP\'s format: one Annotation per ring, Type, PartOfGroup, Color, ordered Coordinates, groups', () => {
  const xml = toAsapXml(sample());
  assert.match(xml, /^<\?xml version="1\.0"\?>\n<ASAP_Annotations>\n\t<Annotations>/);
  assert.match(xml, /<Annotation Name="rect &quot;A&quot; &lt;&amp;&gt;" Type="Rectangle" PartOfGroup="Tumor" Color="#C80000"/);
  assert.match(xml, /<Coordinate Order="0" X="10.25" Y="20"\/>\s*<Coordinate Order="1" X="310.375" Y="20"\/>/);
  assert.match(xml, /Name="Stroma — µm² \(hole 1\)" Type="Polygon" PartOfGroup="Stroma: dense" Color="#010203"/);
  assert.match(xml, /Name="Annotation 3 \(part 2, hole 1\)"/);
  assert.match(xml, /Type="Dot" PartOfGroup="None" Color="#F4FA58"/);
  assert.match(xml, /Type="PointSet"/);
  assert.match(xml, /Type="Measurement"/);
  assert.match(xml, /<Group Name="Tumor" PartOfGroup="None" Color="#C80000">/);
  // the polygon's exterior is written open (ASAP closes polygons itself): 4 coordinates
  const ext = /Name="Stroma — µm²" Type="Polygon"[^>]*>\s*<Coordinates>([\s\S]*?)<\/Coordinates>/.exec(xml)!;
  assert.equal((ext[1].match(/<Coordinate /g) ?? []).length, 4);
});

test('ASAP import of a file as ASAP writes it (no Glassbox attribute): types, groups, Order, colours', () => {
  const xml = `<?xml version="1.0"?>
<ASAP_Annotations>
  <Annotations>
    <Annotation Name="Annotation 0" Type="Polygon" PartOfGroup="metastases" Color="#F4FA58">
      <Coordinates>
        <Coordinate Order="2" X="110.5" Y="200" />
        <Coordinate Order="0" X="100" Y="100" />
        <Coordinate Order="1" X="200" Y="100.25" />
      </Coordinates>
    </Annotation>
    <Annotation Name="Annotation 1" Type="Rectangle" PartOfGroup="None" Color="#64FE2E">
      <Coordinates><Coordinate Order="0" X="10" Y="10"/><Coordinate Order="1" X="30" Y="10"/><Coordinate Order="2" X="30" Y="20"/><Coordinate Order="3" X="10" Y="20"/></Coordinates>
    </Annotation>
    <Annotation Name="S" Type="Spline" PartOfGroup="_2" Color="#000000">
      <Coordinates><Coordinate Order="0" X="0" Y="0"/><Coordinate Order="1" X="5" Y="0"/><Coordinate Order="2" X="5" Y="5"/></Coordinates>
    </Annotation>
    <Annotation Name="d" Type="Dot" PartOfGroup="None" Color="#F4FA58"><Coordinates><Coordinate Order="0" X="7" Y="8"/></Coordinates></Annotation>
  </Annotations>
  <AnnotationGroups>
    <Group Name="metastases" PartOfGroup="None" Color="#ff0000"><Attributes /></Group>
  </AnnotationGroups>
</ASAP_Annotations>`;
  const r = fromAsapXml(xml, { file: 'a.xml' });
  const [poly, rect, spline, dot] = r.annotations;
  assert.deepEqual(poly.geometry, { type: 'Polygon', coordinates: [[[100, 100], [200, 100.25], [110.5, 200], [100, 100]]] });
  assert.deepEqual(poly.classification, { name: 'metastases', color: [255, 0, 0] });
  assert.deepEqual(poly.color, [244, 250, 88]);
  assert.equal(poly.name, 'Annotation 0');
  assert.deepEqual(rect.shape, { kind: 'rectangle', x: 10, y: 10, width: 20, height: 10 });
  assert.deepEqual(rect.color, [100, 254, 46]);
  assert.equal(spline.classification?.name, '_2');
  assert.deepEqual(dot.geometry, { type: 'Point', coordinates: [7, 8] });
  assert.deepEqual(poly.provenance, { source: 'import', format: 'asap', file: 'a.xml' });
  assert.ok(r.warnings.some((w) => /group "_2" is not listed/.test(w)));
  assert.ok(r.warnings.some((w) => /Spline imported as the polygon through its control points/.test(w)));
});

test('bad ASAP XML: a clear error naming the problem', () => {
  const wrap = (inner: string) => `<ASAP_Annotations><Annotations>${inner}</Annotations><AnnotationGroups/></ASAP_Annotations>`;
  const c3 = '<Coordinates><Coordinate Order="0" X="0" Y="0"/><Coordinate Order="1" X="1" Y="0"/><Coordinate Order="2" X="1" Y="1"/></Coordinates>';
  const cases: Array<[string, RegExp]> = [
    ['<ASAP_Annotations><Annotations>', /not well-formed XML/],
    ['<kml><Document/></kml>', /not an ASAP annotation file/],
    [wrap(`<Annotation Name="x" Type="Ellipse" PartOfGroup="None">${c3}</Annotation>`), /Annotations\.Annotation\[0\]: unsupported ASAP annotation Type "Ellipse"/],
    [wrap(`<Annotation Name="x" Type="Polygon" PartOfGroup="None"><Coordinates><Coordinate Order="0" X="0" Y="0"/><Coordinate Order="0" X="1" Y="0"/><Coordinate Order="2" X="1" Y="1"/></Coordinates></Annotation>`), /Coordinate\[1\]: Order must number the coordinates 0\.\.2 once each/],
    [wrap(`<Annotation Name="x" Type="Polygon" PartOfGroup="None"><Coordinates><Coordinate Order="0" X="0" Y="zero"/></Coordinates></Annotation>`), /Coordinate\[0\]: X and Y must be numbers/],
    [wrap(`<Annotation Name="x" Type="Polygon" PartOfGroup="None"><Coordinates><Coordinate Order="0" X="0" Y="0"/></Coordinates></Annotation>`), /a Polygon needs at least 3 coordinates \(has 1\)/],
    [wrap(`<Annotation Name="x" Type="Polygon" Glassbox="{oops" PartOfGroup="None">${c3}</Annotation>`), /the Glassbox attribute is not valid JSON/],
  ];
  for (const [xml, re] of cases) assert.throws(() => fromAsapXml(xml), re, xml.slice(0, 80));
  assert.throws(() => fromAsapXml(wrap(`<Annotation Name="x" Type="Polygon" PartOfGroup="None">${c3}</Annotation>`), { limits: { maxVerticesTotal: 2 } }), { code: 'TOO_LARGE' });
});

test('measurements CSV: RFC 4180 quoting, CRLF, units in the headers, stored measurements as columns', () => {
  const list = sample().slice(0, 3);
  const csv = measurementsCsv(list, { mpp: { x: 0.5, y: 0.5 } });
  const lines = csv.split('\r\n');
  assert.equal(lines.at(-1), '');
  assert.equal(lines[0], 'id,name,class,shape,geometry,locked,area (µm²),perimeter or length (µm),centroid x (px),centroid y (px),Area µm^2,Heatmap mean');
  assert.ok(lines[1].startsWith(`${list[0].id},"rect ""A"" <&>",Tumor,rectangle,Polygon,false,`));
  assert.equal(lines[3].split(',').slice(6, 8).join(','), `${(10000 - 100) * 0.25},${(400 + 40) * 0.5}`);
  assert.ok(lines[3].endsWith(',2475.0000000001,0.30000000000000004'));
  assert.ok(lines[2].endsWith(',,'), 'no stored measurements → empty fields');
  assert.match(measurementsCsv(list, { mpp: null }).split('\r\n')[0], /area \(px²\),perimeter or length \(px\)/);
  assert.equal(csvField('a\nb'), '"a\nb"');
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField(NaN), '');
});
