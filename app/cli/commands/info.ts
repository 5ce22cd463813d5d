/** glassbox info SLIDE [--json] */
import { parseArgs } from 'node:util';
import { basename, resolve } from 'node:path';
import type { CliIO } from '../main.js';
import { openSlide } from '../../../main/engine/slide/index.js';
import type { SlideProperties } from '../../../main/engine/slide/types.js';

export const summary = 'print a slide\'s properties (levels, mpp, vendor, associated images); --json for one JSON object';

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
  } catch (e) {
    throw new Error(`${(e as Error).message} (usage: glassbox info SLIDE [--json])`);
  }
}

export function infoObject(path: string, p: SlideProperties) {
  return {
    file: basename(path),
    format: p.format,
    vendor: p.vendor,
    width: p.width,
    height: p.height,
    levels: p.levels.map((l) => ({ width: l.width, height: l.height, downsample: l.downsample, tileWidth: l.tileWidth, tileHeight: l.tileHeight })),
    mpp: p.mpp ? { x: p.mpp.x, y: p.mpp.y, source: p.mpp.source } : null,
    objectivePower: p.objectivePower,
    associatedImages: p.associatedImages,
    compression: p.compression,
    pixel: p.pixel,
    hasIccProfile: p.hasIccProfile,
    properties: p.raw,
  };
}

function oneLine(v: string, max = 120): string {
  const s = v.replace(/\r?\n/g, '\\n');
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd());
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(argv);
  if (positionals.length !== 1) throw new Error(`expected exactly one SLIDE path (usage: glassbox info SLIDE [--json])`);
  const path = resolve(positionals[0]);
  const slide = await openSlide(path);
  try {
    const p = slide.properties;
    if (values.json) {
      io.out(JSON.stringify(infoObject(path, p), null, 2));
      return 0;
    }
    const lines = table([
      ['file', basename(path)],
      ['format', `${p.format}${p.vendor ? ` (vendor ${p.vendor})` : ''}`],
      ['size', `${p.width} × ${p.height} px`],
      ['mpp', p.mpp ? `${p.mpp.x} × ${p.mpp.y} µm/px (${p.mpp.source})` : 'unknown'],
      ['objective', p.objectivePower !== null ? `${p.objectivePower}×` : 'unknown'],
      ['compression', p.compression],
      ['pixel', `${p.pixel.channels} × ${p.pixel.bitsPerSample}-bit ${p.pixel.sampleFormat} ${p.pixel.photometric}`],
      ['icc profile', p.hasIccProfile ? 'yes' : 'no'],
      ['associated', p.associatedImages.length ? p.associatedImages.join(', ') : 'none'],
    ]);
    lines.push('', 'levels:');
    lines.push(
      ...table([
        ['  #', 'width', 'height', 'downsample', 'tile'],
        ...p.levels.map((l, i) => [`  ${i}`, String(l.width), String(l.height), String(Number(l.downsample.toFixed(4))), `${l.tileWidth}×${l.tileHeight}`]),
      ]),
    );
    const keys = Object.keys(p.raw).sort();
    lines.push('', `properties (${keys.length}):`);
    if (keys.length) lines.push(...table(keys.map((k) => [`  ${k}`, oneLine(p.raw[k])])));
    io.out(lines.join('\n'));
    return 0;
  } finally {
    await slide.close();
  }
}
