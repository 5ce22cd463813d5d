/**
 * Image exports: crops of annotated regions (with the heatmap overlay, outline and a burned-in scale bar) and the
 * heatmap as a float32 pyramidal TIFF (+ JSON sidecar) and a slide-aligned coloured RGBA pyramidal TIFF.
 * Plain Node; no electron, no contract (colours and the scale-bar policy are handed in: see types.ts).
 */
export * from './types.js';
export { renderCrop, planCrop, cropDownsample, geometryBounds, type CropPlan, type CropOptions, type CropResult, type CropFormat } from './crop.js';
export { blendOverlay, sampleGrid, lutOffset, type ValueGrid } from './paint.js';
export { labelMode, strokeLabel, decorationSvg, scaleBarLayout } from './svg.js';
export {
  writeHeatmapFloatTiff, writeHeatmapRgbaTiff, rgbaDownsample, floatPyramid, reduceNanMean, readSidecar, sidecarPath,
  HEATMAP_TIFF_FORMAT, type FloatTiffResult, type RgbaTiffResult,
} from './heatmap-tiff.js';
export { writePyramidTiff, pyramidSizes, toRational, type TiffWriteSpec, type TiffLevelSpec } from './tiff-writer.js';
