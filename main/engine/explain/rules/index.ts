/** Registry of vector-Jacobian rules by ONNX op type (default domain). */
import type { VjpRule } from './types.js';
import { convRules } from './conv.js';
import { elementwiseRules } from './elementwise.js';
import { linalgRules } from './linalg.js';
import { normRules } from './norm.js';
import { poolRules } from './pool.js';
import { shapeRules } from './shape.js';

export const RULES: Record<string, VjpRule> = {
  ...elementwiseRules, ...convRules, ...poolRules, ...shapeRules, ...linalgRules, ...normRules,
};
export const SUPPORTED_OPS: readonly string[] = Object.keys(RULES).sort();
