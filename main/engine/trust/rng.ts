/**
 * Seeded, platform-independent random numbers for the randomization check: xoshiro128** seeded from
 * SHA-256(seed, label), so every tensor gets its own stream (the same values whichever order or mode the blocks
 * are randomized in) and a report is reproducible from its seed alone.
 */
import { createHash } from 'node:crypto';

export type Rand = () => number;

/** uniform [0, 1) stream for (seed, label) */
export function streamFor(seed: number, label: string): Rand {
  const h = createHash('sha256').update(`glassbox-trust\0${seed}\0${label}`).digest();
  let a = h.readUInt32LE(0), b = h.readUInt32LE(4), c = h.readUInt32LE(8), d = h.readUInt32LE(12);
  if ((a | b | c | d) === 0) a = 1;
  return () => {
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a; d ^= b; b ^= c; a ^= d; c ^= t; d = rotl(d, 11);
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    return r / 4294967296;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** standard normal draws (Box–Muller, both values used) */
export function normals(r: Rand): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) { const s = spare; spare = null; return s; }
    let u = 0;
    while (u === 0) u = r();
    const v = r();
    const m = Math.sqrt(-2 * Math.log(u));
    spare = m * Math.sin(2 * Math.PI * v);
    return m * Math.cos(2 * Math.PI * v);
  };
}

/** Fisher–Yates permutation of 0..n-1 */
export function permutation(n: number, r: Rand): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const t = p[i]; p[i] = p[j]; p[j] = t;
  }
  return p;
}
