/**
 * The contract between the backward-graph builder (../backward.ts) and the per-op rules in this folder:
 * its own module so that the rules do not import the builder that imports them.
 */
import type { Emitter } from '../emit.js';
import type { NodeProto } from '../onnx-io.js';

export interface VjpContext {
  node: NodeProto;
  /** input / output names ('' for an absent optional input) */
  inputs: string[];
  outputs: string[];
  /** gradient of each output (null: no gradient reaches it) */
  gy: (string | null)[];
  /** which inputs need a gradient (they depend on a differentiated tensor) */
  needs: boolean[];
  e: Emitter;
  opset: number;
  /** static dims of a tensor (-1 = symbolic batch); throws when unknown */
  dims(name: string): number[];
  /** constant value of a tensor (initializer, Constant, batch-independent shape arithmetic), or undefined */
  constValue(name: string): number[] | undefined;
  ai(name: string, def: number): number;
  af(name: string, def: number): number;
  ais(name: string): number[] | undefined;
  as(name: string, def: string): string;
  /** gradient of output i, zeros when none reaches it */
  gyOrZeros(i: number): string;
  /** raise UNSUPPORTED_OP for an unsupported attribute / input variant */
  unsupported(why: string): never;
  /** name of forward output k of this node, adding it to the forward node when absent (e.g. MaxPool Indices) */
  forwardOutput(k: number): string;
}

/** A rule returns the gradient of each input (null where not needed / not differentiable). */
export type VjpRule = (c: VjpContext) => (string | null)[];
