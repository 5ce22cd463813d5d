/** The crash test's deterministic operations (shared by the child that runs them and the parent that checks). */
import { newAnnotation, type Annotation, type AnnotationStoreApi } from '../../main/engine/annotations/index.js';

export const idOf = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

function annotation(i: number): Annotation {
  // ~1500 vertices each, so the file grows and writes take long enough to be killed in the middle
  const ring: Array<[number, number]> = Array.from({ length: 1500 }, (_, k) => [i * 100 + 50 * Math.cos(k / 64), 50 * Math.sin(k / 64) + k * 1e-3]);
  ring.push([...ring[0]]);
  return newAnnotation({ id: idOf(i), shape: { kind: 'polygon' }, geometry: { type: 'Polygon', coordinates: [ring] }, measurements: { op: i }, now: new Date(0) });
}

/** op i: every 5th deletes the annotation of op i − 3 (when it was a put), the others put annotation i */
export const isDelete = (i: number) => i % 5 === 4;

export async function applyOp(store: AnnotationStoreApi, i: number): Promise<void> {
  if (isDelete(i)) await store.delete(idOf(i - 3));
  else await store.put(annotation(i));
}

/** the ids present after ops 0 … n − 1 */
export function expectedIds(n: number): Set<string> {
  const s = new Set<string>();
  for (let i = 0; i < n; i++) {
    if (isDelete(i)) s.delete(idOf(i - 3));
    else s.add(idOf(i));
  }
  return s;
}
