/** Types for ./openjpeg.mjs (the JPEG 2000 decode core shared by the main thread and the codec worker). */
export declare class CodecError extends Error {
  readonly code: 'CORRUPT' | 'UNSUPPORTED' | 'LIMIT';
  constructor(code: string, message: string);
}
export interface J2kDecoded { data: Uint8Array; width: number; height: number; components: number }
export declare function decodeJ2kCodestream(bytes: Uint8Array, header: { width: number; height: number; components: number }): Promise<J2kDecoded>;
export declare function ycbcrToRgbInPlace(data: Uint8Array): Uint8Array;
export declare function decodeAperioTile(bytes: Uint8Array, params: { width: number; height: number; components: number; ycbcr: boolean }): Promise<J2kDecoded>;
export declare function heapBytes(): Promise<number | null>;
