/**
 * Annotations: public types. Plain Node-free TypeScript (no fs here), no electron, no contract.
 *
 * Coordinates: level-0 pixels of the slide, origin at the top-left corner of the image, x to the right, y down
 * (QuPath's convention, so GeoJSON exported here opens in QuPath unchanged). A pixel (i, j) covers [i, i+1)×[j, j+1).
 *
 * Geometry is stored GeoJSON-style (RFC 7946 shapes, but in level-0 px): polygon rings are CLOSED (the first
 * position repeated at the end); ring 0 is the exterior, the rest are holes. Exterior rings are written with
 * positive shoelace area Σ(xᵢ·yᵢ₊₁ − xᵢ₊₁·yᵢ) > 0 and holes negative (RFC 7946's right-hand rule read on the numbers;
 * on screen, with y down, exteriors run clockwise). Importers accept either orientation and normalise.
 *
 * `shape` keeps the kind the user drew so a rectangle or ellipse stays editable as one: its parameters are the
 * source of truth and `geometry` is derived from them (an ellipse's polygon has ELLIPSE_VERTICES vertices; its area
 * and perimeter are measured from the parameters, exactly πab and Ramanujan's perimeter).
 */

export type Position = [number, number];
/** a closed ring: first position === last position, ≥ 4 positions */
export type Ring = Position[];

export type Geometry =
  | { type: 'Point'; coordinates: Position }
  | { type: 'MultiPoint'; coordinates: Position[] }
  | { type: 'LineString'; coordinates: Position[] }
  | { type: 'Polygon'; coordinates: Ring[] }
  | { type: 'MultiPolygon'; coordinates: Ring[][] };

export type GeometryType = Geometry['type'];

/** what the user drew (or what an import/heatmap produced) — decides how the viewer edits it */
export type Shape =
  /** axis-aligned rectangle; geometry: Polygon of its 4 corners */
  | { kind: 'rectangle'; x: number; y: number; width: number; height: number }
  /** axis-aligned ellipse of centre (cx, cy) and semi-axes rx, ry; geometry: Polygon approximation */
  | { kind: 'ellipse'; cx: number; cy: number; rx: number; ry: number }
  /** polygon (with holes) — vertex-edited; geometry: Polygon */
  | { kind: 'polygon' }
  /** several polygons as one object (heatmap regions, brush strokes, QuPath MultiPolygons); geometry: MultiPolygon */
  | { kind: 'multipolygon' }
  /** one or more points; geometry: Point or MultiPoint */
  | { kind: 'point' }
  /** open polyline; geometry: LineString */
  | { kind: 'polyline' }
  /** freehand closed outline (polygon drawn by dragging); geometry: Polygon */
  | { kind: 'freehand' };

export type ShapeKind = Shape['kind'];

/** RGB, each 0..255 integer (QuPath's classification colour array) */
export type Rgb = [number, number, number];

/** a class in the user-defined list; also an annotation's classification */
export interface AnnotationClass {
  name: string;
  color: Rgb;
}

/** where an annotation came from */
export type Provenance =
  | { source: 'drawn' }
  | { source: 'import'; format: 'geojson' | 'asap'; file?: string }
  | {
    source: 'heatmap';
    /** the heatmap the region came from: its folder/file and what it shows */
    heatmap: { dir?: string; file: string; class: string; method?: string; layer?: string; model?: string; modelSha256?: string; slideSha256?: string };
    /** the threshold applied to the map's values (a percentile threshold is resolved to its value here too) */
    threshold: number;
    /** set when the user asked for a percentile (0..100) of the finite map values */
    percentile?: number;
    minAreaUm2?: number;
    /** Gaussian smoothing σ in cells applied before thresholding (0 = none) */
    smoothCells?: number;
    /** simplification tolerance in cells (≤ 0.5; 0 = exact cell boundaries) */
    simplifyCells?: number;
  };

/**
 * A stored measurement set: name → value. Names carry their units, QuPath style ("Area µm^2", "Perimeter µm",
 * "Heatmap mean", …). Imported measurements (QuPath or others) are kept verbatim, so a round trip is exact.
 */
export type Measurements = Record<string, number>;

export interface Annotation {
  /** RFC 4122 UUID (QuPath 0.4+ object id) */
  id: string;
  shape: Shape;
  geometry: Geometry;
  /** '' = unnamed */
  name: string;
  /** '' = none */
  description: string;
  /** null = unclassified */
  classification: AnnotationClass | null;
  isLocked: boolean;
  measurements: Measurements;
  provenance: Provenance;
  /** ISO 8601 UTC */
  createdAt: string;
  updatedAt: string;
  /** the object's own colour, overriding its class colour (QuPath properties.color); absent = the class colour */
  color?: Rgb;
  /** free string metadata (QuPath properties.metadata), kept for round trips */
  metadata?: Record<string, string>;
}

/** what the store keeps per slide */
export interface SlideAnnotations {
  annotations: Annotation[];
  classes: AnnotationClass[];
}

/** level-0 µm per px of the slide; null = unknown (measurements are then in px and say so) */
export type PixelSize = { x: number; y: number } | null;

/** geometric measurements; `unit` says whether area/perimeter are µm²/µm or px²/px */
export interface ShapeMeasurements {
  unit: 'um' | 'px';
  /** µm² (unit 'um') or px² (unit 'px') */
  area: number;
  /** µm or px; for a polyline: its length; for points: 0 */
  perimeter: number;
  /** level-0 px (area centroid; polyline: length-weighted; points: mean) */
  centroid: Position;
  areaPx: number;
  perimeterPx: number;
  /** points in the annotation (1 for a Point) */
  points: number;
}

/** a loaded heatmap in the analysis output format (heatmap.npy + heatmap.json + probabilities.npy) */
export interface HeatmapGrid {
  /** level-0 px of the grid's top-left corner */
  origin: [number, number];
  /** level-0 px per cell [w, h] */
  cellSize: [number, number];
  /** [rows, cols] */
  shape: [number, number];
  /** float32 [rows, cols] row-major; NaN = not analysed */
  values: Float32Array;
  /** float32 [rows, cols, K] per-cell class probabilities, when available */
  probabilities?: Float32Array;
  classNames?: string[];
  /** the map's name (e.g. heatmap.npy) and class */
  file: string;
  className: string;
  /** slide µm/px from the sidecar (null when unknown) */
  mpp: PixelSize;
  /** sidecar provenance, for the regions' provenance */
  meta?: { dir?: string; method?: string; layer?: string; model?: string; modelSha256?: string; slideSha256?: string; slidePath?: string; signed?: boolean; displayScale?: number };
}

/**
 * Heatmap statistics inside a region. Cells partly inside are WEIGHTED BY THEIR COVERED AREA (the exact area of
 * cell ∩ region); NaN (not analysed) cells are left out and reported as `nanFraction`.
 */
export interface HeatmapStats {
  map: string;
  /** area-weighted mean of the map values inside */
  mean: number;
  /** max over cells that overlap the region (any covered area > 0) */
  max: number;
  /** area-weighted 90th percentile (the smallest value v with ≥ 90% of the covered area at values ≤ v) */
  p90: number;
  /** covered area with value ≥ threshold ÷ covered area with a value (NaN when no threshold given) */
  fractionAbove: number;
  threshold: number | null;
  /** area-weighted mean probability per class name */
  classProbabilities: Record<string, number>;
  /** level-0 px² of the region covered by analysed cells */
  analysedAreaPx: number;
  /** fraction of the region's area on NaN cells or outside the grid */
  nanFraction: number;
}

/** import limits (all enforced before anything is stored) */
export interface ImportLimits {
  maxBytes: number;
  maxAnnotations: number;
  maxVerticesTotal: number;
  maxVerticesPerAnnotation: number;
  /** coordinates must be finite and |v| ≤ this */
  maxCoordinate: number;
}

export interface ImportResult {
  annotations: Annotation[];
  /** classes named by the imported annotations (with their colours) */
  classes: AnnotationClass[];
  /** things accepted but changed (e.g. a ring closed, orientation fixed, an unknown property dropped) */
  warnings: string[];
}

export type AnnotationErrorCode = 'BAD_IMPORT' | 'TOO_LARGE' | 'UNKNOWN_GEOMETRY' | 'BAD_INPUT' | 'STORE';

export class AnnotationError extends Error {
  constructor(public readonly code: AnnotationErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AnnotationError';
  }
}

/** options of heatmap → regions */
export interface RegionOptions {
  /** value threshold, or a percentile 0..100 of the finite values when `percentile` is true; cells ≥ it are in */
  threshold: number;
  percentile?: boolean;
  /** drop regions (connected components, area net of holes) smaller than this many µm²; needs the map's µm/px (an error without) */
  minAreaUm2?: number;
  /** Gaussian σ in cells, applied (NaN-aware) before thresholding; 0 = none */
  smoothCells?: number;
  /** simplification tolerance in cells, 0..0.5: no boundary moves further (0 = exact: vertices only at the cell corners where the boundary turns); see regions.ts simplifyRing */
  simplifyCells?: number;
  /** classification for the regions (default: the map's class, colour from `color`) */
  classification?: AnnotationClass | null;
  /** 8-connectivity joins diagonal neighbours into one region (default false: 4-connectivity, the QuPath/ImageJ default) */
  diagonal?: boolean;
}

/** the annotation store of one slide; every mutating call resolves once the change is durable on disk */
export interface AnnotationStoreApi {
  readonly key: string;
  readonly file: string;
  /** messages from opening (e.g. a corrupt store set aside as …) */
  readonly notices: string[];
  list(): Annotation[];
  get(id: string): Annotation | undefined;
  classes(): AnnotationClass[];
  /** insert or replace a whole annotation (by id) */
  put(a: Annotation): Promise<void>;
  /** insert or replace several at once (one durable write) */
  putMany(list: Annotation[]): Promise<void>;
  /** false when no such id */
  delete(id: string): Promise<boolean>;
  /** replace everything (undo of a bulk change, import-replace); classes kept unless given */
  replaceAll(annotations: Annotation[], classes?: AnnotationClass[]): Promise<void>;
  setClasses(classes: AnnotationClass[]): Promise<void>;
  /** wait for queued writes */
  flush(): Promise<void>;
}
