// Worker for CodecPool (plain JS so it runs without a TypeScript loader): sharp encode/decode + file writes
// off the main thread. Messages: { id, op: 'encode', raw, width, height, quality, file? } -> { id, bytes? }
//                                { id, op: 'decode', bytes }                              -> { id, raw, width, height }
import { parentPort } from 'node:worker_threads';
import { writeFile } from 'node:fs/promises';
import sharp from 'sharp';

sharp.cache(false);

parentPort.on('message', async (m) => {
  try {
    if (m.op === 'encode') {
      const jpeg = await sharp(new Uint8Array(m.raw), { raw: { width: m.width, height: m.height, channels: 3 } })
        .jpeg({ quality: m.quality, optimiseCoding: false })
        .toBuffer();
      if (m.file) {
        await writeFile(m.file, jpeg);
        parentPort.postMessage({ id: m.id });
      } else {
        const out = new Uint8Array(jpeg).buffer;
        parentPort.postMessage({ id: m.id, bytes: out }, [out]);
      }
    } else if (m.op === 'encodeShared') {
      const px = Buffer.from(m.sab, m.offset, m.width * m.height * 3);
      const jpeg = await sharp(px, { raw: { width: m.width, height: m.height, channels: 3 } })
        .jpeg({ quality: m.quality, optimiseCoding: false })
        .toBuffer();
      await writeFile(m.file, jpeg);
      parentPort.postMessage({ id: m.id });
    } else if (m.op === 'decode') {
      let { data, info } = await sharp(new Uint8Array(m.bytes), { failOn: 'error' }).raw().toBuffer({ resolveWithObject: true });
      if (info.channels !== 3) ({ data, info } = await sharp(new Uint8Array(m.bytes)).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true }));
      const raw = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data.buffer : new Uint8Array(data).buffer;
      parentPort.postMessage({ id: m.id, raw, width: info.width, height: info.height }, [raw]);
    } else if (m.op === 'decodeInto') {
      // decode a tile straight into a shared band: rows of `bandWidth` RGB pixels, tile placed at column x
      const { data, info } = await sharp(new Uint8Array(m.bytes), { failOn: 'error' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      if (info.channels !== 3) throw new Error(`decoded tile has ${info.channels} channels`);
      const band = Buffer.from(m.band);
      const w = Math.min(info.width, m.maxWidth) * 3;
      const rows = Math.min(info.height, m.maxHeight);
      const stride = m.bandWidth * 3;
      for (let r = 0; r < rows; r++) data.copy(band, r * stride + m.x * 3, r * info.width * 3, r * info.width * 3 + w);
      parentPort.postMessage({ id: m.id, width: info.width, height: info.height });
    } else {
      throw new Error(`unknown op ${m.op}`);
    }
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) });
  }
});
