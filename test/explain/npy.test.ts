import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy, encodeNpy, readNpy, writeNpy, NpyError } from '../../main/engine/explain/npy.js';
import { PYTHON } from '../helpers/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'glassbox-npy-'));

/** value at C-order flat index i of the reference array used everywhere below */
const ref = (i: number) => i * 0.5 - 3;
const refInt = (i: number) => i - 3;

function havePythonNumpy(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const SKIP_NO_NUMPY = existsSync(PYTHON) && havePythonNumpy() ? false : `${PYTHON} with numpy not available: numpy interop tests skipped`;

test('round trip: encode → decode keeps dims and float32 values', () => {
  for (const dims of [[0], [5], [2, 3], [2, 3, 4], [1, 1, 1, 1, 7], []]) {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i) * 1e3));
    const bytes = encodeNpy({ data, dims });
    assert.equal((10 + new DataView(bytes.buffer).getUint16(8, true)) % 64, 0, 'header padded to 64 bytes');
    const back = decodeNpy(bytes);
    assert.deepEqual(back.dims, dims);
    assert.deepEqual(Array.from(back.data), Array.from(data));
  }
});

test('round trip through files', async () => {
  const p = join(dir, 'rt.npy');
  const data = Float32Array.from({ length: 24 }, (_, i) => ref(i));
  await writeNpy(p, { data, dims: [2, 3, 4] });
  const back = await readNpy(p);
  assert.deepEqual(back.dims, [2, 3, 4]);
  assert.deepEqual(Array.from(back.data), Array.from(data));
});

test('encode rejects dims that do not match the data', () => {
  assert.throws(() => encodeNpy({ data: new Float32Array(5), dims: [2, 3] }), /dims \[2, 3\] hold 6 values but data has 5/);
});

test('numpy reads what we write (float32, C order)', { skip: SKIP_NO_NUMPY }, async () => {
  const p = join(dir, 'ours.npy');
  await writeNpy(p, { data: Float32Array.from({ length: 24 }, (_, i) => ref(i)), dims: [2, 3, 4] });
  const out = execFileSync(PYTHON, ['-c', `
import numpy as np, sys
a = np.load(sys.argv[1])
ok = a.dtype == np.float32 and a.shape == (2, 3, 4) and np.array_equal(a, (np.arange(24) * 0.5 - 3).reshape(2, 3, 4).astype(np.float32))
print('OK' if ok else 'BAD %s %s' % (a.dtype, a.shape))
`, p]).toString().trim();
  assert.equal(out, 'OK');
});

test('reads numpy files: every dtype, both endiannesses, C and Fortran order, versions 1/2/3', { skip: SKIP_NO_NUMPY }, () => {
  const script = `
import numpy as np, os, sys
d = sys.argv[1]
base = np.arange(24).reshape(2, 3, 4)
cases = []
for dt in ['<f4', '>f4', '<f8', '>f8', '<f2', '>f2']:
    cases.append(('float_' + dt.replace('<', 'le').replace('>', 'be'), (base * 0.5 - 3).astype(dt)))
for dt in ['i1', '<i2', '>i2', '<i4', '>i4', '<i8', '>i8']:
    cases.append(('int_' + dt.replace('<', 'le').replace('>', 'be'), (base - 3).astype(dt)))
for dt in ['u1', '<u2', '>u4', '<u8']:
    cases.append(('uint_' + dt.replace('<', 'le').replace('>', 'be'), base.astype(dt)))
cases.append(('bool', (base % 3 == 0)))
for name, a in cases:
    np.save(os.path.join(d, name + '.npy'), a)
    np.save(os.path.join(d, name + '_F.npy'), np.asfortranarray(a))
for v in [(1, 0), (2, 0), (3, 0)]:
    with open(os.path.join(d, 'v%d.npy' % v[0]), 'wb') as f:
        np.lib.format.write_array(f, (base * 0.5 - 3).astype('<f4'), version=v)
# a 2-D Fortran array from a transpose (non-contiguous in C)
np.save(os.path.join(d, 'T_F.npy'), np.asfortranarray((base[0] * 0.5 - 3).astype('>f8')))
print(' '.join(n for n, _ in cases))
`;
  const names = execFileSync(PYTHON, ['-c', script, dir]).toString().trim().split(' ');
  assert.ok(names.length >= 18);
  for (const name of names) {
    for (const suffix of ['', '_F']) {
      const file = join(dir, `${name}${suffix}.npy`);
      const a = decodeNpy(new Uint8Array(readFileSync(file)), file);
      assert.deepEqual(a.dims, [2, 3, 4], file);
      const f = name.startsWith('float') ? ref : name.startsWith('int') ? refInt : name === 'bool' ? (i: number) => (i % 3 === 0 ? 1 : 0) : (i: number) => i;
      for (let i = 0; i < 24; i++) assert.equal(a.data[i], f(i), `${file}[${i}]`);
    }
  }
  for (const v of [1, 2, 3]) {
    const a = decodeNpy(new Uint8Array(readFileSync(join(dir, `v${v}.npy`))));
    assert.equal(readFileSync(join(dir, `v${v}.npy`))[6], v);
    assert.deepEqual(Array.from(a.data), Array.from({ length: 24 }, (_, i) => ref(i)));
  }
  const t = decodeNpy(new Uint8Array(readFileSync(join(dir, 'T_F.npy'))));
  assert.deepEqual(t.dims, [3, 4]);
  assert.deepEqual(Array.from(t.data), Array.from({ length: 12 }, (_, i) => ref(i)));
});

/** hand-built v1 file with the given header text and payload */
function handMade(header: string, payload: Uint8Array, version = 1): Uint8Array {
  const pre = version === 1 ? 10 : 12;
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(pre + h.length + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  if (version === 1) new DataView(out.buffer).setUint16(8, h.length, true);
  else new DataView(out.buffer).setUint32(8, h.length, true);
  out.set(h, pre);
  out.set(payload, pre + h.length);
  return out;
}

test('hand-built big-endian Fortran float32 file is transposed into C order', () => {
  // shape (2, 3): C-order values 0..5; Fortran storage order is column-major: 0,3,1,4,2,5
  const payload = new Uint8Array(24);
  const dv = new DataView(payload.buffer);
  [0, 3, 1, 4, 2, 5].forEach((v, k) => dv.setFloat32(k * 4, v, false));
  const a = decodeNpy(handMade("{'descr': '>f4', 'fortran_order': True, 'shape': (2, 3), }\n", payload));
  assert.deepEqual(a.dims, [2, 3]);
  assert.deepEqual(Array.from(a.data), [0, 1, 2, 3, 4, 5]);
});

test('malformed files give clear errors', () => {
  const f4 = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array([1, 2, 3]), /not a \.npy file/],
    [new TextEncoder().encode('PK\x03\x04 this is a zip'), /not a \.npy file/],
    [handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", f4, 4), /unsupported \.npy format version 4/],
    [handMade("{'descr': '<f4', 'shape': (2, 2), }", f4), /no 'fortran_order' key/],
    [handMade("{'fortran_order': False, 'shape': (2, 2), }", f4), /no 'descr' key/],
    [handMade("{'descr': '<f4', 'fortran_order': False, }", f4), /no 'shape' tuple/],
    [handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", f4), /bad shape entry "x"/],
    [handMade("['descr', '<f4']", f4), /not a dict/],
    [handMade("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", f4), /unsupported \.npy dtype '<c8'/],
    [handMade("{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }", f4), /unsupported \.npy dtype '<U3'/],
    [handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", f4), /truncated \.npy data: shape \(3, 2\) of '<f4' needs 24 bytes, file has 16/],
  ];
  for (const [bytes, re] of cases) {
    assert.throws(() => decodeNpy(bytes, 'x.npy'), (e: unknown) => e instanceof NpyError && re.test(e.message) && e.message.startsWith('x.npy:'), String(re));
  }
  // header length beyond the end of the file
  const trunc = handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(0)).slice(0, 20);
  assert.throws(() => decodeNpy(trunc), /truncated \.npy header/);
});

test('writeNpy output decodes identically with a non-aligned view', () => {
  const bytes = encodeNpy({ data: Float32Array.from([1.5, -2, 3]), dims: [3] });
  const shifted = new Uint8Array(bytes.length + 1);
  shifted.set(bytes, 1);
  assert.deepEqual(Array.from(decodeNpy(shifted.subarray(1)).data), [1.5, -2, 3]);
  writeFileSync(join(dir, 'x.npy'), bytes);
});

test('view: aligned little-endian float32 in C order shares the caller\'s bytes; anything else is a copy', async () => {
  const bytes = encodeNpy({ data: Float32Array.from([1.5, -2, 3, 4]), dims: [2, 2] });
  const v = decodeNpy(bytes, 'v.npy', { view: true });
  assert.deepEqual(Array.from(v.data), [1.5, -2, 3, 4]);
  new DataView(bytes.buffer).setFloat32(bytes.length - 4, 9, true);
  assert.equal(v.data[3], 9, 'a view: the change to the bytes shows');
  assert.equal(decodeNpy(bytes).data[3], 9);
  const copy = decodeNpy(bytes);
  new DataView(bytes.buffer).setFloat32(bytes.length - 4, 7, true);
  assert.equal(copy.data[3], 9, 'without view: a copy');
  // misaligned, big-endian and Fortran order: decoded into a copy even when a view is asked for
  const shifted = new Uint8Array(bytes.length + 1);
  shifted.set(bytes, 1);
  const s = decodeNpy(shifted.subarray(1), 's.npy', { view: true });
  shifted[shifted.length - 1] ^= 0xff;
  assert.deepEqual(Array.from(s.data), [1.5, -2, 3, 7]);
  const payload = new Uint8Array(8);
  new DataView(payload.buffer).setFloat32(0, 5, false);
  new DataView(payload.buffer).setFloat32(4, 6, false);
  assert.deepEqual(Array.from(decodeNpy(handMade("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", payload), 'b.npy', { view: true }).data), [5, 6]);
  const f = new Uint8Array(new Float32Array([0, 3, 1, 4, 2, 5]).buffer);
  assert.deepEqual(Array.from(decodeNpy(handMade("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", f), 'f.npy', { view: true }).data), [0, 1, 2, 3, 4, 5]);
  // readNpy owns the file's bytes: a view of them, values right
  const p = join(dir, 'view.npy');
  await writeNpy(p, { data: Float32Array.from({ length: 1000 }, (_, i) => ref(i)), dims: [10, 100] });
  const r = await readNpy(p);
  assert.deepEqual(Array.from(r.data.subarray(0, 3)), [ref(0), ref(1), ref(2)]);
  assert.ok(r.data.buffer.byteLength >= r.data.byteLength + 64, 'the header shares the buffer: a view of the file bytes');
});
