/** Types for ./image-codec.mjs (sharp work shared by the main thread and the codec worker). */
export declare function encodeRgbJpeg(pixels: Uint8Array, width: number, height: number, quality: number): Promise<Buffer>;
export declare function decodeToRgb(bytes: Uint8Array): Promise<{ data: Buffer; width: number; height: number }>;
export declare function decodeIntoBand(bytes: Uint8Array, band: ArrayBuffer | SharedArrayBuffer, bandWidth: number, x: number, maxWidth: number, maxHeight: number): Promise<{ width: number; height: number }>;
