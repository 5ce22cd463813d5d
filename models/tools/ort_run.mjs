#!/usr/bin/env node
// Runs an ONNX model once with onnxruntime-node (the runtime Glassbox uses), CPU provider.
// usage: node models/tools/ort_run.mjs MODEL.onnx INPUT.f32 N,C,H,W OUTPUT.f32
// INPUT.f32 / OUTPUT.f32: raw little-endian float32. Prints the output's dims as JSON on stdout.
// Used by export_package.py to check the exported logits against PyTorch when Python has no onnxruntime.
import { readFileSync, writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

const [model, input, dimsArg, output] = process.argv.slice(2);
if (!output) {
  console.error('usage: node ort_run.mjs MODEL.onnx INPUT.f32 N,C,H,W OUTPUT.f32');
  process.exit(2);
}
const dims = dimsArg.split(',').map(Number);
const buf = readFileSync(input);
const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
if (data.length !== dims.reduce((a, b) => a * b, 1)) {
  console.error(`input holds ${data.length} floats, dims ${dims.join('x')} need ${dims.reduce((a, b) => a * b, 1)}`);
  process.exit(2);
}
const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', data, dims) });
const y = out[session.outputNames[0]];
writeFileSync(output, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
console.log(JSON.stringify(y.dims));
