// The one codec worker (main/base/worker-pool.ts runs it; ./decode-pool.ts is the engine's shared pool). Plain JS so
// it runs without a TypeScript loader, and beside the Electron bundle. Every op runs the same code as the main
// thread: chunk decodes through the one codec registry (./codec-registry.mjs), image work through ./image-codec.mjs.
//   { id, op: 'decode', compression, bytes, params }                     -> { id, value: { data, width, height, components } }
//   { id, op: 'encodeJpeg', raw, width, height, quality, file? }         -> { id, value: { bytes? } }
//   { id, op: 'decodeImage', bytes }                                     -> { id, value: { raw, width, height } }
//   { id, op: 'decodeTiles', bytes, ends, xs, widths, width, height, out }  -> { id, value: { out } }
//        several images (bytes[ends[i-1]..ends[i]]) side by side into `out` (rows `width` px), each at xs[i] clipped to widths[i] × height
//   { id, op: 'decodeTileStack', bytes, ends }                           -> { id, value: { data, width, height } | { data: null } }
//        several JPEG tiles of one size decoded stacked (tile i = rows i·height …), or data null where they do not allow it
//   { id, op: 'encodeTilesToFiles', block, stride, height, tiles: [{ x, width, file }], quality } -> { id, value: { block } }
//        several JPEG tiles cut from one block of rows (`stride` pixels apart), each written to its file; the block goes back
//   failure                                                              -> { id, error: { name, code, message } }
import { parentPort } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { decode, errorToWire } from './codec-registry.mjs';

// sharp (native libvips) loads on the first image op only: a worker that only decodes chunks starts faster
let imageCodec = null;
const image = () => (imageCodec ??= import('./image-codec.mjs'));

/** An ArrayBuffer holding exactly these bytes, to transfer (copies a view into something larger or shared). */
function own(a) {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer ? a.buffer : new Uint8Array(a).buffer;
}

const ops = {
  async decode(m) {
    const r = await decode(m.compression, new Uint8Array(m.bytes), m.params ?? {});
    const data = own(r.data);
    return [{ data, width: r.width, height: r.height, components: r.components }, [data]];
  },
  async encodeJpeg(m) {
    const { encodeRgbJpeg } = await image();
    const jpeg = await encodeRgbJpeg(new Uint8Array(m.raw), m.width, m.height, m.quality);
    if (m.file) {
      await writeFile(m.file, jpeg);
      return [{}, []];
    }
    const bytes = own(jpeg);
    return [{ bytes }, [bytes]];
  },
  async decodeImage(m) {
    const { decodeToRgb } = await image();
    const img = await decodeToRgb(new Uint8Array(m.bytes));
    const raw = own(img.data);
    return [{ raw, width: img.width, height: img.height }, [raw]];
  },
  async decodeTiles(m) {
    const { decodeRun } = await image();
    const all = new Uint8Array(m.bytes);
    const jpegs = m.ends.map((end, i) => all.subarray(i === 0 ? 0 : m.ends[i - 1], end));
    await decodeRun(jpegs, m.xs, m.widths, m.height, m.out, m.width);
    return [{ out: m.out }, [m.out]];
  },
  async decodeTileStack(m) {
    const { decodeTileStack } = await image();
    const all = new Uint8Array(m.bytes);
    const stack = await decodeTileStack(m.ends.map((end, i) => all.subarray(i === 0 ? 0 : m.ends[i - 1], end)));
    if (!stack) return [{ data: null }, []];
    const data = own(stack.data);
    return [{ data, width: stack.width, height: stack.height }, [data]];
  },
  async encodeTilesToFiles(m) {
    const { encodeRgbJpegStrided } = await image();
    // small files written synchronously: one syscall each here instead of three trips through libuv's threads
    for (const t of m.tiles) encodeRgbJpegStrided(m.block, t.x * 3, m.stride, t.width, m.height, m.quality, (jpeg) => writeFileSync(t.file, jpeg));
    return [{ block: m.block }, [m.block]];
  },
};

parentPort.on('message', async (m) => {
  try {
    const op = Object.hasOwn(ops, m.op) ? ops[m.op] : null;
    if (!op) throw new Error(`unknown op ${m.op}`);
    const [value, transfer] = await op(m);
    parentPort.postMessage({ id: m.id, value }, transfer);
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: errorToWire(e) });
  }
});
