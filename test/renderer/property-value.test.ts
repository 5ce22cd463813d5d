import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PREVIEW_CHARS, TITLE_CHARS, propertyValueView, valueKind } from '../../renderer/src/lib/property-value.js';

test('short values are shown whole', () => {
  assert.deepEqual(propertyValueView('0.4990'), { kind: 'text', preview: '0.4990', truncated: false, title: '0.4990' });
  assert.equal(propertyValueView('deadbeef').kind, 'text', 'a short hex-looking id is text');
});

test('a long hex dump is cut to a preview with an ellipsis and its size', () => {
  const hex = 'A1B2C3D4'.repeat(300); // 2,400 chars, like a JPEGTables or ICC dump
  const v = propertyValueView(hex);
  assert.equal(v.kind, 'hex');
  assert.equal(v.truncated, true);
  assert.equal(v.preview, `${hex.slice(0, PREVIEW_CHARS)}… (hex, 2,400 chars)`);
  assert.ok(v.title.length <= TITLE_CHARS + 30 && v.title.endsWith('(2,400 chars)'), 'the tooltip is bounded too');
  assert.equal(valueKind('0x' + 'ff '.repeat(40)), 'hex');
});

test('binary values never print control bytes', () => {
  const bin = 'II*\u0000\u0008\u0000\u0000\u0000' + 'x'.repeat(200);
  const v = propertyValueView(bin);
  assert.equal(v.kind, 'binary');
  assert.doesNotMatch(v.preview, /[\u0000-\u0008]/);
  assert.match(v.preview, /^II\*····/);
  assert.match(v.preview, /… \(binary, 208 chars\)$/);
  assert.equal(v.title, 'binary value, 208 chars');
});

test('long text is cut at the preview length; the full text stays in the tooltip', () => {
  const desc = 'Aperio Image Library v10.0.50 | AppMag = 20 | MPP = 0.4990 | '.repeat(4);
  const v = propertyValueView(desc);
  assert.equal(v.kind, 'text');
  assert.equal(v.preview.startsWith(desc.slice(0, PREVIEW_CHARS) + '…'), true);
  assert.equal(v.title, desc);
});

test('formatBytes: decimal units for the folder browser', async () => {
  const { formatBytes } = await import('../../renderer/src/lib/format.js');
  assert.equal(formatBytes(812), '812 B');
  assert.equal(formatBytes(1_234_567), '1.2 MB');
  assert.equal(formatBytes(3_400_000_000), '3.4 GB');
  assert.equal(formatBytes(-1), '');
});
