/**
 * An in-memory Slide for tiling tests: a synthetic RGB image, a pyramid of levels with the given
 * downsamples, JPEG tiles (encoded once with sharp) so pass-through and decode paths agree.
 * Optional per-read delay and call log to test cancellation and de-duplication.
 */
import sharp from 'sharp';
import type { EncodedTile, RgbImage, Slide, SlideLevel, SlideProperties } from '../../main/engine/slide/types.js';
import { SlideError } from '../../main/engine/slide/types.js';
import { AbortError } from '../../main/base/abort.js';

export interface FakeOptions {
  width: number;
  height: number;
  /** integer downsamples, e.g. [1, 4, 16] */
  downsamples?: number[];
  tile?: number;
  /** JPEG tiles (true) or raw only (false: readEncodedTile returns null) */
  jpeg?: boolean;
  delayMs?: number;
}

/** deterministic pattern: gradients + a checkerboard so resampling errors show */
export function pattern(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const check = ((x >> 5) + (y >> 5)) & 1;
      data[o] = (x * 255) / Math.max(1, width - 1);
      data[o + 1] = (y * 255) / Math.max(1, height - 1);
      data[o + 2] = check ? 150 : 100; // mild edges: JPEG round trips stay close
    }
  }
  return { data, width, height };
}

async function shrink(img: RgbImage, w: number, h: number): Promise<RgbImage> {
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).resize(w, h, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer();
  return { data, width: w, height: h };
}

export function crop(img: RgbImage, x: number, y: number, w: number, h: number): RgbImage {
  const out = new Uint8Array(w * h * 3).fill(255);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const sx = x + c, sy = y + r;
      if (sx < 0 || sy < 0 || sx >= img.width || sy >= img.height) continue;
      const so = (sy * img.width + sx) * 3, d = (r * w + c) * 3;
      out[d] = img.data[so]; out[d + 1] = img.data[so + 1]; out[d + 2] = img.data[so + 2];
    }
  }
  return { data: out, width: w, height: h };
}

export class FakeSlide implements Slide {
  readonly path = '/fake/slide.tif';
  properties!: SlideProperties;
  /** decoded pixels per level (what the JPEG tiles decode to, edges included) */
  pixels: RgbImage[] = [];
  private tiles = new Map<string, EncodedTile>();
  calls = { encoded: 0, tile: 0, region: 0, aborted: 0 };
  closed = false;

  private constructor(private readonly o: FakeOptions) {}

  static async create(o: FakeOptions): Promise<FakeSlide> {
    const s = new FakeSlide(o);
    await s.init();
    return s;
  }

  private async init() {
    const { width, height, tile = 256, downsamples = [1, 4] } = this.o;
    const base = pattern(width, height);
    const levels: SlideLevel[] = [];
    for (const ds of downsamples) {
      const w = Math.max(1, Math.floor(width / ds));
      const h = Math.max(1, Math.floor(height / ds));
      const src = ds === 1 ? base : await shrink(base, w, h);
      levels.push({ width: w, height: h, downsample: width / w, tileWidth: tile, tileHeight: tile });
      // encode full-size tiles (edge tiles padded white, as scanners do) and keep what they decode to
      const dec = { data: new Uint8Array(w * h * 3), width: w, height: h };
      for (let r = 0; r * tile < h; r++) {
        for (let c = 0; c * tile < w; c++) {
          const t = crop(src, c * tile, r * tile, tile, tile);
          const bytes = await sharp(t.data, { raw: { width: tile, height: tile, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
          this.tiles.set(`${levels.length - 1}/${c}/${r}`, { mime: 'image/jpeg', bytes, width: tile, height: tile });
          const d = await sharp(bytes).raw().toBuffer();
          const vw = Math.min(tile, w - c * tile), vh = Math.min(tile, h - r * tile);
          for (let y = 0; y < vh; y++) dec.data.set(d.subarray(y * tile * 3, (y * tile + vw) * 3), ((r * tile + y) * w + c * tile) * 3);
        }
      }
      this.pixels.push(dec);
    }
    this.properties = {
      format: 'fake', vendor: null, width, height, levels, mpp: { x: 0.5, y: 0.5, source: 'vendor' }, objectivePower: 20,
      associatedImages: ['label'], pixel: { channels: 3, bitsPerSample: 8, sampleFormat: 'uint', photometric: 'rgb' },
      compression: 'jpeg', hasIccProfile: false, warnings: [], raw: { 'fake.key': 'v' },
    };
  }

  private async delay(signal?: AbortSignal) {
    if (this.o.delayMs) await new Promise((r) => setTimeout(r, this.o.delayMs));
    if (signal?.aborted) {
      this.calls.aborted++;
      throw new AbortError('fake slide read: aborted');
    }
  }

  private level(level: number): SlideLevel {
    const L = this.properties.levels[level];
    if (!L) throw new SlideError('OUT_OF_RANGE', `level ${level}`);
    return L;
  }

  async readEncodedTile(level: number, col: number, row: number, signal?: AbortSignal) {
    this.level(level);
    this.calls.encoded++;
    await this.delay(signal);
    if (this.o.jpeg === false) return null;
    const t = this.tiles.get(`${level}/${col}/${row}`);
    if (!t) throw new SlideError('OUT_OF_RANGE', `tile ${col}_${row}`);
    return t;
  }

  async readTile(level: number, col: number, row: number, signal?: AbortSignal) {
    const L = this.level(level);
    this.calls.tile++;
    await this.delay(signal);
    const x = col * L.tileWidth, y = row * L.tileHeight;
    return crop(this.pixels[level], x, y, Math.min(L.tileWidth, L.width - x), Math.min(L.tileHeight, L.height - y));
  }

  async readRegion(x: number, y: number, level: number, w: number, h: number, signal?: AbortSignal) {
    const L = this.level(level);
    this.calls.region++;
    await this.delay(signal);
    return crop(this.pixels[level], Math.floor(x / L.downsample), Math.floor(y / L.downsample), w, h);
  }

  async readAssociated(name: string) {
    if (name !== 'label') throw new SlideError('NOT_FOUND', `no associated image ${name}`);
    return pattern(64, 32);
  }

  async close() {
    this.closed = true;
  }
}

export function meanAbsDiff(a: RgbImage, b: RgbImage): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`size ${a.width}×${a.height} vs ${b.width}×${b.height}`);
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += Math.abs(a.data[i] - b.data[i]);
  return s / a.data.length;
}

export async function decode(bytes: Uint8Array): Promise<RgbImage> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
