export * from './geometry.js';
export * from './cache.js';
export * from './tiler.js';
export * from './region.js';
export { DEFAULT_QUALITY, decodeToRgb, encodeJpeg, encodePng } from './codec.js';
export { dzsave, encodeSlots, DzSaveExistsError, ENCODE_BUFFER_BUDGET, MAX_DZSAVE_TILE_SIZE, type DzSaveOptions, type DzSaveResult } from './dzsave.js';
export { CodecPool } from './codec-pool.js';
