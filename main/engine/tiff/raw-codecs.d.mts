/** Types for ./raw-codecs.mjs (bounded Deflate / LZW / PackBits decoders, shared with the decode worker). */
export declare class ChunkTooLarge extends Error {}
export declare class ChunkCorrupt extends Error {}
export declare function inflateBounded(src: Uint8Array, maxBytes: number): Uint8Array;
export declare function packBitsBounded(src: Uint8Array, maxBytes: number): Uint8Array;
export declare function lzwBounded(src: Uint8Array, maxBytes: number): Uint8Array;
