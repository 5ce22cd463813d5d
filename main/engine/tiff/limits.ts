/**
 * Safety limits for untrusted TIFF input. Every allocation whose size comes from the file is checked
 * against one of these first (see SlideError 'LIMIT').
 */
export const LIMITS = {
  /** IFDs in one file, top-level chain + SubIFDs together */
  maxIfds: 4096,
  /** entries in one IFD */
  maxIfdEntries: 4096,
  /** image width / height */
  maxDimension: 1 << 24, // 16,777,216 px
  /** tiles (or strips) in one image */
  maxTiles: 10_000_000,
  /** pixels in one decoded tile / strip group */
  maxTilePixels: 64 * 1024 * 1024,
  /** compressed bytes of one tile / strip read into memory */
  maxTileBytes: 256 * 1024 * 1024,
  /** bytes of one tag value loaded into memory */
  maxTagBytes: 128 * 1024 * 1024,
  /** pixels of one readRegion / readAssociated result (and of one region served or exported) */
  maxRegionPixels: 64 * 1024 * 1024, // 192 MiB of RGB
  /** width / height of one region served over the API or written by `glassbox region` (the tiler's and the transport's bound) */
  maxRegionSide: 16384,
} as const;
