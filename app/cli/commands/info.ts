/** glassbox info SLIDE [--json] */
import { parseArgs } from 'node:util';
import type { CliIO } from '../main.js';
import { cliInfo, withSlide } from '../slides.js';
import { helpRequested } from '../args.js';

export const summary = 'print a slide\'s properties (levels, mpp, vendor, associated images); --json for one JSON object';

const USAGE = 'usage: glassbox info SLIDE [--json]';
const HELP = `${USAGE}
  SLIDE: a whole-slide image (.svs, .ndpi, .tif/.tiff, .ome.tif, …)
  --json: one JSON object, the same slide description the viewer's hosts send (SlideInfoDTO, without id and URL)`;

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    throw new Error(`${(e as Error).message} (${USAGE})`);
  }
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
  if (helpRequested(argv)) {
    io.out(HELP);
    return 0;
  }
  const { values, positionals } = parse(argv);
  if (positionals.length !== 1) throw new Error(`expected exactly one SLIDE path (${USAGE})`);
  return withSlide(positionals[0], async ({ info }) => {
    const p = cliInfo(info);
    if (values.json) {
      io.out(JSON.stringify(p, null, 2));
      return 0;
    }
    const lines = table([
      ['file', p.name],
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
    const keys = Object.keys(p.properties).sort();
    lines.push('', `properties (${keys.length}):`);
    if (keys.length) lines.push(...table(keys.map((k) => [`  ${k}`, oneLine(p.properties[k])])));
    io.out(lines.join('\n'));
    return 0;
  });
}
