/**
 * Renderer <-> main contract for annotations. Pure TypeScript.
 *
 * Coordinates are level-0 pixels of the slide, origin top-left, x right, y down (QuPath's convention). Geometry is
 * GeoJSON-shaped: polygon rings are closed (first position repeated last), ring 0 the exterior, the rest holes.
 * `shape` keeps what the user drew, so a rectangle or an ellipse stays editable as one (its parameters are the
 * source of truth; the host derives `geometry` from them).
 *
 * Annotations belong to the slide's CONTENT (sha256 of the file), not to its path or to the open id: a renamed or
 * moved file keeps its work. Every mutating call resolves once the change is durable on disk (atomic write).
 */
import type { ColormapName, DisplayMode } from './colormap.js';

export type PositionDTO = [number, number];
export type RingDTO = PositionDTO[];

export type GeometryDTO =
  | { type: 'Point'; coordinates: PositionDTO }
  | { type: 'MultiPoint'; coordinates: PositionDTO[] }
  | { type: 'LineString'; coordinates: PositionDTO[] }
  | { type: 'Polygon'; coordinates: RingDTO[] }
  | { type: 'MultiPolygon'; coordinates: RingDTO[][] };

export type ShapeDTO =
  | { kind: 'rectangle'; x: number; y: number; width: number; height: number }
  | { kind: 'ellipse'; cx: number; cy: number; rx: number; ry: number }
  | { kind: 'polygon' }
  | { kind: 'multipolygon' }
  | { kind: 'point' }
  | { kind: 'polyline' }
  | { kind: 'freehand' };

export type ShapeKindDTO = ShapeDTO['kind'];

/** RGB 0..255 (QuPath's classification colour) */
export type RgbDTO = [number, number, number];

export interface AnnotationClassDTO {
  name: string;
  color: RgbDTO;
}

export type ProvenanceDTO =
  | { source: 'drawn' }
  | { source: 'import'; format: 'geojson' | 'asap'; file?: string }
  | {
    source: 'heatmap';
    heatmap: { dir?: string; file: string; class: string; method?: string; layer?: string; model?: string; modelSha256?: string; slideSha256?: string };
    threshold: number;
    percentile?: number;
    minAreaUm2?: number;
    smoothCells?: number;
    simplifyCells?: number;
  };

export interface AnnotationDTO {
  /** RFC 4122 UUID (QuPath's object id) */
  id: string;
  shape: ShapeDTO;
  geometry: GeometryDTO;
  name: string;
  description: string;
  classification: AnnotationClassDTO | null;
  isLocked: boolean;
  /** stored measurements, QuPath style ("Area µm^2", …); imported ones kept verbatim */
  measurements: Record<string, number>;
  provenance: ProvenanceDTO;
  /** QuPath's per-object colour (properties.color), when an import had one */
  color?: RgbDTO;
  /** QuPath's metadata (string → string), kept through round trips */
  metadata?: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

/** What the renderer sends to create or replace an annotation (the host keeps createdAt / provenance of an existing id). */
export interface AnnotationInputDTO {
  id: string;
  shape: ShapeDTO;
  /** required for polygon / multipolygon / point / polyline / freehand; derived from the shape for rectangle / ellipse */
  geometry?: GeometryDTO;
  name?: string;
  description?: string;
  classification?: AnnotationClassDTO | null;
  isLocked?: boolean;
  /** where it came from, for an id the host does not have (undoing a delete restores an import's or a region's origin) */
  provenance?: ProvenanceDTO;
}

export interface AnnotationSetDTO {
  slideId: string;
  annotations: AnnotationDTO[];
  /** the user-defined class list */
  classes: AnnotationClassDTO[];
  /** bumps with every durable change */
  revision: number;
  /** ISO time of the last durable save (null: nothing saved yet) */
  savedAt: string | null;
  /** messages from opening the store (e.g. a corrupt store set aside, with where it went) */
  notices: string[];
}

export interface PutAnnotationsRequest {
  annotations: AnnotationInputDTO[];
}

export interface DeleteAnnotationsRequest {
  ids: string[];
}

export interface SetClassesRequest {
  classes: AnnotationClassDTO[];
}

export interface ShapeMeasurementsDTO {
  /** 'um': area µm², perimeter µm; 'px': the slide's µm/px is unknown, so level-0 px² / px */
  unit: 'um' | 'px';
  area: number;
  perimeter: number;
  /** level-0 px */
  centroid: PositionDTO;
  areaPx: number;
  perimeterPx: number;
  points: number;
}

/** Heatmap statistics inside a region (cells partly inside weighted by covered area; NaN cells left out). */
export interface HeatmapStatsDTO {
  map: string;
  mean: number;
  max: number;
  p90: number;
  /** covered area with value ≥ threshold ÷ analysed covered area (NaN without a threshold) */
  fractionAbove: number;
  threshold: number | null;
  classProbabilities: Record<string, number>;
  analysedAreaPx: number;
  nanFraction: number;
}

/** a loaded heatmap: its analysis, the class index shown and the display threshold (map units) */
export interface HeatmapRefDTO {
  analysisId: string;
  classIndex: number;
  threshold?: number;
}

export interface MeasureRequest {
  /** only these (default: all) */
  ids?: string[];
  /** with a heatmap loaded: its analysis, the class index shown and the display threshold (map units) */
  heatmap?: HeatmapRefDTO;
}

export interface AnnotationMeasurementsDTO {
  id: string;
  shape: ShapeMeasurementsDTO;
  heatmap: HeatmapStatsDTO | null;
}

export interface MeasureResponse {
  /** the µm/px used (null: unknown, values in px) */
  mpp: { x: number; y: number } | null;
  items: AnnotationMeasurementsDTO[];
}

export interface RegionsFromHeatmapRequest {
  analysisId: string;
  classIndex: number;
  /** a map value, or a percentile 0..100 of the finite values when `percentile` */
  threshold: number;
  percentile?: boolean;
  /** drop regions smaller than this (µm²; px² when the µm/px is unknown) */
  minAreaUm2?: number;
  /** Gaussian σ in cells before thresholding (0: none) */
  smoothCells?: number;
  /** class for the new regions (default: the map's class) */
  classification?: AnnotationClassDTO | null;
}

export interface RegionsFromHeatmapResponse {
  /** ids of the regions added */
  added: string[];
  /** the threshold applied, in map units (a percentile resolved) */
  threshold: number;
  set: AnnotationSetDTO;
}

export type AnnotationFormatDTO = 'geojson' | 'asap' | 'csv';
export const ANNOTATION_IMPORT_FORMATS = ['geojson', 'asap'] as const;
export type AnnotationImportFormatDTO = (typeof ANNOTATION_IMPORT_FORMATS)[number];

export interface ImportAnnotationsResponse {
  added: string[];
  warnings: string[];
  set: AnnotationSetDTO;
}

/** file extension and MIME type per export format */
export const ANNOTATION_FORMAT_FILES: Record<AnnotationFormatDTO, { ext: string; mime: string; label: string }> = {
  geojson: { ext: 'geojson', mime: 'application/geo+json', label: 'GeoJSON (QuPath)' },
  asap: { ext: 'xml', mime: 'application/xml', label: 'ASAP XML' },
  csv: { ext: 'csv', mime: 'text/csv', label: 'CSV of measurements' },
};

/** Largest import accepted (bytes) and other limits every input is checked against. */
export const ANNOTATION_LIMITS = {
  importBytes: 32 * 1024 * 1024,
  /** JSON bodies of put / delete / classes / measure */
  bodyBytes: 8 * 1024 * 1024,
  verticesPerAnnotation: 200_000,
  annotationsPerRequest: 10_000,
  classes: 256,
  nameChars: 500,
  descriptionChars: 20_000,
  maxCoordinate: 2 ** 31 - 1,
} as const;

export const annotationUrls = {
  /** GET AnnotationSetDTO; POST PutAnnotationsRequest (upsert) → AnnotationSetDTO */
  set: (slideId: string) => `/api/slides/${slideId}/annotations`,
  /** POST DeleteAnnotationsRequest → AnnotationSetDTO */
  remove: (slideId: string) => `/api/slides/${slideId}/annotations/delete`,
  /** PUT SetClassesRequest → AnnotationSetDTO */
  classes: (slideId: string) => `/api/slides/${slideId}/annotations/classes`,
  /** POST MeasureRequest → MeasureResponse */
  measure: (slideId: string) => `/api/slides/${slideId}/annotations/measure`,
  /** POST RegionsFromHeatmapRequest → RegionsFromHeatmapResponse */
  regions: (slideId: string) => `/api/slides/${slideId}/annotations/regions`,
  /** GET: the file (Content-Disposition: attachment); `ids` limits it to those annotations */
  export: (slideId: string, format: AnnotationFormatDTO, ids?: string[]) =>
    `/api/slides/${slideId}/annotations/export.${format}${ids && ids.length ? `?ids=${ids.join(',')}` : ''}`,
  /** POST the file's text (any content type) → ImportAnnotationsResponse; bad input changes nothing */
  import: (slideId: string, format: AnnotationImportFormatDTO) => `/api/slides/${slideId}/annotations/import.${format}`,
  /** GET the crop image (Content-Disposition: attachment) */
  crop: (slideId: string, id: string, format: CropFormatDTO, req: CropRequest) => {
    const q = new URLSearchParams();
    for (const k of ['mpp', 'downsample', 'margin'] as const) if (req[k] !== undefined) q.set(k, String(req[k]));
    if (req.outline === false) q.set('outline', '0');
    if (req.scaleBar === false) q.set('scaleBar', '0');
    if (req.overlay) for (const [k, v] of Object.entries(req.overlay)) q.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
    return `/api/slides/${slideId}/annotations/${id}/crop.${format}?${q}`;
  },
} as const;

/** An image crop of one annotation's bounding box (the export engine's renderCrop). */
export type CropFormatDTO = 'png' | 'tiff';
export interface CropRequest {
  /** output µm/px (needs the slide's µm/px); or */
  mpp?: number;
  /** level-0 px per output px */
  downsample?: number;
  /** the heatmap as the viewer shows it (its colours, range, threshold, opacity, smoothing) */
  overlay?: {
    analysisId: string;
    classIndex: number;
    colormap: ColormapName;
    mode: DisplayMode;
    /** top of the colour range (signed: ±hi) and the display threshold, in map units (probability: 0…1) */
    hi: number;
    threshold: number;
    opacity: number;
    smooth: boolean;
  };
  /** draw the outline in the class colour (default true) */
  outline?: boolean;
  /** burn in a scale bar (default true) */
  scaleBar?: boolean;
  /** context around the box, output px */
  margin?: number;
}

export interface CropFileDTO {
  filename: string;
  mime: string;
  bytes: Uint8Array;
  width: number;
  height: number;
}

export interface ExportedFileDTO {
  filename: string;
  mime: string;
  text: string;
}

export interface AnnotationService {
  get(slideId: string): Promise<AnnotationSetDTO>;
  put(slideId: string, req: PutAnnotationsRequest): Promise<AnnotationSetDTO>;
  remove(slideId: string, req: DeleteAnnotationsRequest): Promise<AnnotationSetDTO>;
  setClasses(slideId: string, req: SetClassesRequest): Promise<AnnotationSetDTO>;
  measure(slideId: string, req: MeasureRequest): Promise<MeasureResponse>;
  regionsFromHeatmap(slideId: string, req: RegionsFromHeatmapRequest): Promise<RegionsFromHeatmapResponse>;
  importText(slideId: string, format: AnnotationImportFormatDTO, text: string, fileName?: string): Promise<ImportAnnotationsResponse>;
  /** `heatmap`: the CSV gets that map's statistics per annotation */
  exportText(slideId: string, format: AnnotationFormatDTO, ids?: string[], heatmap?: HeatmapRefDTO): Promise<ExportedFileDTO>;
  /** an image of one annotation's region at a chosen resolution, with or without the heatmap, with a scale bar */
  crop(slideId: string, id: string, format: CropFormatDTO, req: CropRequest): Promise<CropFileDTO>;
}

/** Default classes offered when a slide has none yet: QuPath's standard classes, names and colours as in qupath-core PathClass.StandardPathClasses. */
export const DEFAULT_ANNOTATION_CLASSES: AnnotationClassDTO[] = [
  { name: 'Tumor', color: [200, 0, 0] },
  { name: 'Stroma', color: [150, 200, 150] },
  { name: 'Immune cells', color: [160, 90, 160] },
  { name: 'Necrosis', color: [50, 50, 50] },
  { name: 'Other', color: [255, 200, 0] },
  { name: 'Region*', color: [0, 0, 180] },
  { name: 'Ignore*', color: [180, 180, 180] },
];
