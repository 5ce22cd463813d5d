/** Types for ./codec-registry.mjs (the one codec registry of the main thread and the codec worker). */
export interface Decoded { data: Uint8Array; width?: number; height?: number; components?: number }
export type ChunkDecoder = (bytes: Uint8Array, params: Record<string, unknown>) => Promise<Decoded>;
export interface WireError { name: string; code: string; message: string }
export type DecoderKind = 'samples' | 'pixels';
export declare function addDecoder(cases: number | number[], importFn: () => Promise<ChunkDecoder>, name?: string, kind?: DecoderKind): void;
export declare function hasDecoder(compression: number): boolean;
export declare function decoderInfo(compression: number): { name: string; kind: DecoderKind } | null;
export declare function registeredNames(): string;
export declare function getDecoder(compression: number): Promise<ChunkDecoder>;
export declare function decode(compression: number, bytes: Uint8Array, params: Record<string, unknown>): Promise<Decoded>;
export declare function errorToWire(e: unknown): WireError;
export declare function errorFromWire(w: { name?: string; code?: string; message?: string }): Error;
