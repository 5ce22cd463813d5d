/** Types for ./image-codec.mjs (sharp work shared by the main thread and the codec worker). */
export declare function encodeRgbJpeg(pixels: Uint8Array, width: number, height: number, quality: number): Promise<Buffer>;
export declare function decodeToRgb(bytes: Uint8Array): Promise<{ data: Buffer; width: number; height: number }>;
export declare function decodeIntoBand(bytes: Uint8Array, band: ArrayBuffer | SharedArrayBuffer, bandWidth: number, x: number, maxWidth: number, maxHeight: number): Promise<{ width: number; height: number }>;
export interface JpegInfo { width: number; height: number; comps: { id: number; h: number; v: number }[]; jfif: boolean; adobe: number | null }
export declare function jpegInfo(bytes: Uint8Array): JpegInfo | null;
export declare function ycbcrSampling(info: JpegInfo | null): [number, number] | null;
export interface TileColour { rgb: boolean; sampling: [number, number] }
export declare function tileColour(info: JpegInfo | null): TileColour | null;
export declare function tiffOfTiles(jpegs: Uint8Array[], tileWidth: number, tileHeight: number, colour: TileColour, vertical?: boolean): Buffer;
export declare function decodeTileStack(jpegs: Uint8Array[]): Promise<{ data: Buffer; width: number; height: number } | null>;
export declare function decodeRun(jpegs: Uint8Array[], xs: number[], widths: number[], height: number, out: ArrayBuffer | SharedArrayBuffer, width: number): Promise<void>;
