/**
 * The ONNX Runtime thread (./ort-thread.ts): creates, runs and releases sessions off the host's main thread.
 * onnxruntime-node builds a session synchronously on the calling thread; here that blocks only this worker.
 * Messages: {id, op: 'create', model: Uint8Array | path, options} → {id, ok, sid, inputNames, outputNames};
 * {id, op: 'run', sid, feeds: {name: {type, data, dims}}, fetches?} → {id, ok, out: {name: {type, data, dims}}};
 * {id, op: 'release', sid} → {id, ok}. A failure answers {id, ok: false, name, message}.
 * Plain JavaScript so the same file runs from the source tree (tsx), beside the Electron bundle and for the CLI.
 */
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

const sessions = new Map();
let next = 1;

/** a tensor as plain fields (a typed array with a buffer of its own, its type and dims), its buffer to transfer */
function wire(t, transfer) {
  let d = t.data;
  if (ArrayBuffer.isView(d)) {
    if (d.byteOffset !== 0 || d.byteLength !== d.buffer.byteLength) d = d.slice();
    transfer.push(d.buffer);
  }
  return { type: t.type, data: d, dims: t.dims };
}

async function handle(m) {
  switch (m.op) {
    case 'create': {
      const s = await ort.InferenceSession.create(m.model, m.options);
      const sid = next++;
      sessions.set(sid, s);
      return { sid, inputNames: s.inputNames, outputNames: s.outputNames };
    }
    case 'run': {
      const s = sessions.get(m.sid);
      if (!s) throw new Error('the ONNX Runtime session was released');
      const feeds = {};
      for (const [k, v] of Object.entries(m.feeds)) feeds[k] = new ort.Tensor(v.type, v.data, v.dims);
      const r = m.fetches ? await s.run(feeds, m.fetches) : await s.run(feeds);
      const out = {};
      const transfer = [];
      for (const [k, t] of Object.entries(r)) out[k] = wire(t, transfer);
      return { out, transfer };
    }
    case 'release': {
      const s = sessions.get(m.sid);
      sessions.delete(m.sid);
      if (s) await s.release();
      return {};
    }
    default:
      throw new Error(`unknown ONNX Runtime thread call '${m.op}'`);
  }
}

parentPort.on('message', (m) => {
  handle(m).then(
    ({ transfer, ...r }) => {
      try { parentPort.postMessage({ id: m.id, ok: true, ...r }, transfer ?? []); } catch {
        parentPort.postMessage({ id: m.id, ok: true, ...r }); // a buffer that cannot move (held by ORT): copied
      }
    },
    (e) => parentPort.postMessage({ id: m.id, ok: false, name: e?.name ?? 'Error', message: String(e?.message ?? e) }),
  );
});
