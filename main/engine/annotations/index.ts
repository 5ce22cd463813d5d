/**
 * Annotations engine: model, measurements, heatmap → regions, per-slide store, QuPath GeoJSON / ASAP XML / CSV.
 * Plain Node; no electron, no contract. All coordinates are level-0 px, origin top-left (see types.ts).
 *
 * API:
 *
 * model.ts
 *   newAnnotation(init: NewAnnotation): Annotation     // validated; rectangle/ellipse geometry derived from the shape
 *   shapeGeometry(shape: Shape): Geometry | null         // rectangle → 4-corner Polygon, ellipse → 72-vertex Polygon
 *   validateAnnotation(a: unknown, limits?: ImportLimits, path?: string): Annotation   // throws AnnotationError
 *   validateGeometry(g: unknown, path: string, limits?, warn?): { geometry; vertices }  // rings closed + oriented
 *   classesOf(list): AnnotationClass[]; kindOf(g): Shape; rgbHex(rgb) / hexRgb(hex); defaultClassColor(name)
 *   DEFAULT_LIMITS: ImportLimits; ELLIPSE_VERTICES = 72
 *
 * measurements.ts
 *   measureAnnotation(a: Annotation, mpp: PixelSize): ShapeMeasurements
 *   measureGeometry(g: Geometry, mpp: PixelSize, shape?: Shape): ShapeMeasurements   // ellipse: πab, Ramanujan
 *   formatArea(m): string        // "512 µm²", "1.23 mm²" (from 0.1 mm²), "812 px² (µm/px unknown)"
 *   formatLength(m): string      // "85.3 µm", "1.2 mm" (from 1 mm), "40 px (µm/px unknown)"
 *   heatmapStats(g: Geometry, grid: HeatmapGrid, threshold?: number): HeatmapStats   // covered-area weighted
 *   cellCoverage(g, grid): { weights: Map<cell index, px²>; total }                   // exact polygon ∩ cell areas
 *   loadHeatmap(dir: string, className?: string): Promise<HeatmapGrid>    // heatmap[-<class>].npy/.json + probabilities.npy
 *   measurementRecord(a, mpp, grid?, threshold?): Measurements            // QuPath-style names with units, finite only
 *
 * regions.ts
 *   heatmapRegions(grid: HeatmapGrid, opts: RegionOptions, now?: Date): { annotations: Annotation[]; threshold: number }
 *   maskRegions(mask: Uint8Array, rows: number, cols: number, diagonal?: boolean): Position[][][]  // cell-unit polygons
 *   smoothGrid(values, rows, cols, sigma): Float32Array; percentileOf(values, p): number; regionClass(name)
 *
 * store.ts
 *   slideFingerprint(path: string | readonly string[]): Promise<string>   // size + 3 × 1 MiB samples; rename-proof
 *   openAnnotationStore(dataDir: string, key: string): Promise<AnnotationStoreApi>   // <dataDir>/<key>.json
 *   atomicWriteFile(path, data): Promise<void>          // temp + fsync + rename + fsync dir
 *
 * geojson.ts
 *   toGeoJSON(list: Annotation[]): FeatureCollection      // QuPath dialect
 *   stringifyGeoJSON(list: Annotation[]): string
 *   fromGeoJSON(input: string | unknown, opts?: ImportOptions): ImportResult   // ImportOptions = { limits?, file?, now? }
 *
 * asap.ts
 *   toAsapXml(list: Annotation[], classes?: AnnotationClass[]): string
 *   fromAsapXml(xml: string, opts?: ImportOptions): ImportResult
 *
 * csv.ts
 *   measurementsCsv(list: Annotation[], opts: { mpp: PixelSize; grid?: HeatmapGrid; threshold?: number }): string
 *
 * Imports are pure: they return everything or throw AnnotationError (BAD_IMPORT / TOO_LARGE / UNKNOWN_GEOMETRY)
 * naming the feature and field; hand the result to store.putMany (which validates all before changing anything).
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
