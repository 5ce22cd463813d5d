/**
 * Trust tools: the model parameter randomization check and deletion / insertion
 * faithfulness curves on the user's own model, reports (JSON, SVG, HTML). Builds only on the explanations engine.
 */
export { findBlocks, type Block, type BlockOptions } from './blocks.js';
export { randomizeTensors, redraw, type Family, type TensorDraw } from './randomize.js';
export { similarity, spearman, pearson, rankdata, ssim, hog, normalise01, type Similarity } from './metrics.js';
export { runSanity, type SanityOptions, type SanityResult, type TrustProgress, type CommonOptions } from './sanity.js';
export { runFaithfulness, gaussianBlur, meanBaseline, rankCells, trapezoid, type FaithfulnessOptions } from './faithfulness.js';
export { edgeMap, engineProvider, TRUST_METHODS, type TrustMethod, type MapProvider, type ProviderFactory } from './provider.js';
export * from './report.js';
export { sanitySvg, faithfulnessSvg } from './svg.js';
export { reportHtml } from './html.js';
export { regionPatches, type RegionPatches, type RegionGridOptions, type RegionPolygons } from './region.js';
