/**
 * Annotations engine: model, measurements, heatmap → regions, per-slide store, QuPath GeoJSON / ASAP XML / CSV.
 * Plain Node; no electron, no contract. All coordinates are level-0 px, origin top-left (see types.ts).
 *
 * API (modules land one by one; the exports below grow with them — signatures are fixed):
 *
 * model.ts
 *   newAnnotation(init: { shape: Shape; geometry?: Geometry; name?; description?; classification?; isLocked?;
 *                 measurements?; provenance?; id?; now?: Date }): Annotation      // geometry derived from rectangle/ellipse
 *   shapeGeometry(shape: Shape): Geometry | null                                  // rectangle/ellipse → Polygon
 *   validateAnnotation(a: unknown, limits?: Partial<ImportLimits>): Annotation     // throws AnnotationError
 *   DEFAULT_LIMITS: ImportLimits; ELLIPSE_VERTICES: number
 *
 * measurements.ts
 *   measureAnnotation(a: Annotation, mpp: PixelSize): ShapeMeasurements
 *   measureGeometry(g: Geometry, mpp: PixelSize, shape?: Shape): ShapeMeasurements
 *   formatArea(m: ShapeMeasurements): string        // "512 µm²", "1.23 mm²" (≥ 0.1 mm²), "812 px² (no µm/px)"
 *   formatLength(m: ShapeMeasurements): string      // "85.3 µm", "1.20 mm", "40 px"
 *   heatmapStats(g: Geometry, grid: HeatmapGrid, threshold?: number): HeatmapStats   // covered-area weighted
 *   loadHeatmap(dir: string, className?: string): Promise<HeatmapGrid>    // heatmap[-<class>].npy/.json + probabilities.npy
 *   measurementRecord(a, mpp, grid?, threshold?): Measurements            // QuPath-style names with units
 *
 * regions.ts
 *   heatmapRegions(grid: HeatmapGrid, opts: RegionOptions, now?: Date): { annotations: Annotation[]; threshold: number }
 *   maskRegions(mask: Uint8Array, rows: number, cols: number, diagonal?: boolean): Position[][][]  // cell-unit polygons
 *
 * store.ts
 *   slideFingerprint(path: string | string[]): Promise<string>   // sha256 of size + first/last MiB (+ TIFF directory); rename-proof; a file list: over each
 *   openAnnotationStore(dataDir: string, key: string): Promise<AnnotationStoreApi>
 *
 * geojson.ts
 *   toGeoJSON(list: Annotation[]): object                // QuPath FeatureCollection
 *   stringifyGeoJSON(list: Annotation[]): string
 *   fromGeoJSON(input: string | unknown, opts?: { limits?: Partial<ImportLimits>; file?: string; now?: Date }): ImportResult
 *
 * asap.ts
 *   toAsapXml(list: Annotation[], classes?: AnnotationClass[]): string
 *   fromAsapXml(xml: string, opts?: { limits?: Partial<ImportLimits>; file?: string; now?: Date }): ImportResult
 *
 * csv.ts
 *   measurementsCsv(list: Annotation[], opts: { mpp: PixelSize; grid?: HeatmapGrid; threshold?: number }): string
 */
export * from './types.js';
export {
  newAnnotation, shapeGeometry, validateAnnotation, validateGeometry, classesOf, kindOf, rgbHex, hexRgb,
  DEFAULT_LIMITS, ELLIPSE_VERTICES, defaultClassColor, type NewAnnotation,
} from './model.js';
export {
  measureGeometry, measureAnnotation, formatArea, formatLength, formatNumber, heatmapStats, cellCoverage, loadHeatmap,
  measurementRecord, ellipsePerimeter,
} from './measurements.js';
export { heatmapRegions, maskRegions, smoothGrid, percentileOf, regionClass } from './regions.js';
export { slideFingerprint, openAnnotationStore, atomicWriteFile } from './store.js';
export { toGeoJSON, stringifyGeoJSON, fromGeoJSON, type ImportOptions } from './geojson.js';
export { toAsapXml, fromAsapXml } from './asap.js';
export { measurementsCsv, csvField, csvRow, type CsvOptions } from './csv.js';
