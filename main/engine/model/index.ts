/** Model packages (WSInfer zoo config.json + ONNX), preprocessing, class lookup. Plain Node. */
export { modelConfigSchema, transformSchema, parseModelConfig, ModelPackageError, type ModelConfig, type Transform } from './config.js';
export { loadModelPackage, listModelPackages, resolveClass, checkPackageAgainstModel, type ModelPackage } from './package.js';
export { decodeRgb, resizeBilinear, resizedSize, applyTransforms, preprocessImage, bareTransforms, stackBatch, type RgbImage } from './preprocess.js';
