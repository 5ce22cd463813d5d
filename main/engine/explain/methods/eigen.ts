/**
 * EigenCAM (gradient-free), as pytorch-grad-cam's get_2d_projection: per image, X = Aᵀ [hw, K] centred over
 * positions, projection = X · v₁ (v₁: first right singular vector), then ReLU (pytorch-grad-cam's base class).
 * The SVD sign is arbitrary (LAPACK's choice in numpy); ours is fixed: the projection correlates positively
 * with the channel-summed activation Σ_k A^k. 'eigencam-signed' keeps the unrectified projection.
 * Computed in JS in float64 from the fetched activations; non-finite activations count as 0.
 */
import type { Tensor } from '../types.js';
import { CamMethodImpl } from './base.js';

/** top eigenvector of a symmetric n×n matrix (row-major, float64) */
export function topEigenvector(m: Float64Array, n: number): { vector: Float64Array; value: number } {
  if (n <= 96) return jacobiTop(m, n);
  // power iteration, started from the row of largest norm
  let v = new Float64Array(n);
  let best = 0, bi = 0;
  for (let i = 0; i < n; i++) { let s = 0; for (let j = 0; j < n; j++) s += m[i * n + j] ** 2; if (s > best) { best = s; bi = i; } }
  for (let j = 0; j < n; j++) v[j] = m[bi * n + j] + 1e-3;
  let lambda = 0;
  for (let it = 0; it < 5000; it++) {
    const w = new Float64Array(n);
    for (let i = 0; i < n; i++) { let s = 0; const row = i * n; for (let j = 0; j < n; j++) s += m[row + j] * v[j]; w[i] = s; }
    let norm = 0; for (let i = 0; i < n; i++) norm += w[i] * w[i];
    norm = Math.sqrt(norm);
    if (norm === 0) return { vector: v, value: 0 };
    let diff = 0;
    for (let i = 0; i < n; i++) { w[i] /= norm; diff += (w[i] - v[i]) ** 2; }
    v = w; lambda = norm;
    if (diff < 1e-24 * n) break;
  }
  return { vector: v, value: lambda };
}

/** cyclic Jacobi eigen-decomposition; returns the eigenvector of the largest eigenvalue */
function jacobiTop(m0: Float64Array, n: number): { vector: Float64Array; value: number } {
  const a = Float64Array.from(m0);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    let diag = 0; for (let i = 0; i < n; i++) diag += a[i * n + i] ** 2;
    if (off <= 1e-30 * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq; a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk; a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p], vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq; v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  let bi = 0;
  for (let i = 1; i < n; i++) if (a[i * n + i] > a[bi * n + bi]) bi = i;
  const vec = new Float64Array(n);
  for (let k = 0; k < n; k++) vec[k] = v[k * n + bi];
  return { vector: vec, value: a[bi * n + bi] };
}

/** projection of one image's activations [K, P] on their first principal component (length P) */
export function firstComponentProjection(a0: Float32Array | Float64Array, K: number, P: number): Float64Array {
  // non-finite activations (NaN/±Inf, e.g. from a non-finite input or an overflow) count as 0: they must not turn
  // the whole map into NaN
  let a: Float32Array | Float64Array = a0;
  if (!a0.every(Number.isFinite)) a = Float64Array.from(a0, (v) => (Number.isFinite(v) ? v : 0));
  // X [P, K] centred over positions
  const x = new Float64Array(P * K);
  for (let k = 0; k < K; k++) {
    let mean = 0;
    for (let p = 0; p < P; p++) mean += a[k * P + p];
    mean /= P;
    for (let p = 0; p < P; p++) x[p * K + k] = a[k * P + p] - mean;
  }
  const proj = new Float64Array(P);
  if (P <= K) {
    // X Xᵀ u = σ² u; projection = X v₁ = σ u₁
    const m = new Float64Array(P * P);
    for (let i = 0; i < P; i++) for (let j = i; j < P; j++) {
      let s = 0; for (let k = 0; k < K; k++) s += x[i * K + k] * x[j * K + k];
      m[i * P + j] = s; m[j * P + i] = s;
    }
    const { vector, value } = topEigenvector(m, P);
    const sigma = Math.sqrt(Math.max(value, 0));
    for (let p = 0; p < P; p++) proj[p] = sigma * vector[p];
  } else {
    const m = new Float64Array(K * K);
    for (let i = 0; i < K; i++) for (let j = i; j < K; j++) {
      let s = 0; for (let p = 0; p < P; p++) s += x[p * K + i] * x[p * K + j];
      m[i * K + j] = s; m[j * K + i] = s;
    }
    const { vector } = topEigenvector(m, K);
    for (let p = 0; p < P; p++) { let s = 0; for (let k = 0; k < K; k++) s += x[p * K + k] * vector[k]; proj[p] = s; }
  }
  // sign: positive correlation with the channel-summed activation
  let dot = 0;
  for (let p = 0; p < P; p++) { let s = 0; for (let k = 0; k < K; k++) s += a[k * P + p]; dot += s * proj[p]; }
  if (dot < 0) for (let p = 0; p < P; p++) proj[p] = -proj[p];
  return proj;
}

export class EigenCam extends CamMethodImpl {
  readonly name = 'eigencam' as const;
  override readonly needsGradients = false;
  override readonly computedInJs = true;
  override get mapNames() { return ['eigencam', 'eigencam-signed']; }
  override computeJs(A: Tensor): Record<string, Tensor> {
    const [N, K, h, w] = A.dims;
    const P = h * w;
    const signed = new Float32Array(N * P), pos = new Float32Array(N * P);
    for (let n = 0; n < N; n++) {
      const proj = firstComponentProjection(A.data.subarray(n * K * P, (n + 1) * K * P), K, P);
      for (let p = 0; p < P; p++) { signed[n * P + p] = proj[p]; pos[n * P + p] = Math.max(0, proj[p]); }
    }
    return { 'eigencam': { data: pos, dims: [N, h, w] }, 'eigencam-signed': { data: signed, dims: [N, h, w] } };
  }
}
