/** TIFF tag numbers and compression / photometric names used by the engine. */
export const TAG = {
  NewSubfileType: 254, ImageWidth: 256, ImageLength: 257, BitsPerSample: 258, Compression: 259,
  Photometric: 262, ImageDescription: 270, Make: 271, Model: 272, StripOffsets: 273, SamplesPerPixel: 277,
  RowsPerStrip: 278, StripByteCounts: 279, XResolution: 282, YResolution: 283, PlanarConfiguration: 284,
  ResolutionUnit: 296, Software: 305, DateTime: 306, Artist: 315, HostComputer: 316, Predictor: 317,
  ColorMap: 320, TileWidth: 322, TileLength: 323, TileOffsets: 324, TileByteCounts: 325, SubIFDs: 330,
  ExtraSamples: 338, SampleFormat: 339, SMinSampleValue: 340, SMaxSampleValue: 341, JPEGTables: 347,
  YCbCrSubsampling: 530, Copyright: 33432, ICCProfile: 34675,
  NdpiFormatFlag: 65420, NdpiSourceLens: 65421, NdpiMcuStarts: 65426,
  /** high 32 bits of each McuStarts entry, in NDPI files larger than 4 GiB */
  NdpiMcuStartsHigh: 65432,
} as const;

export const COMPRESSION_NAMES: Record<number, string> = {
  1: 'none', 2: 'CCITT RLE', 3: 'CCITT Group 3 fax', 4: 'CCITT Group 4 fax', 5: 'lzw', 6: 'old-style JPEG',
  7: 'jpeg', 8: 'deflate', 32946: 'deflate', 32773: 'packbits', 32809: 'ThunderScan', 33003: 'jpeg2000',
  33005: 'jpeg2000', 34661: 'JBIG', 34676: 'SGI LogLuv', 34677: 'SGI LogLuv24', 34712: 'JPEG 2000 (Leadtools)',
  34887: 'LERC', 34892: 'lossy JPEG (DNG)', 34925: 'LZMA', 34933: 'PNG', 34934: 'JPEG XR', 50000: 'Zstandard',
  50001: 'WebP', 50002: 'JPEG XL', 52546: 'JPEG XL (DNG)',
};

export function compressionName(c: number): string {
  return COMPRESSION_NAMES[c] ?? `unknown compression ${c}`;
}

export const PHOTOMETRIC_NAMES: Record<number, string> = {
  0: 'min-is-white', 1: 'min-is-black', 2: 'rgb', 3: 'palette', 4: 'mask', 5: 'separated', 6: 'ycbcr', 8: 'cielab',
  9: 'icclab', 10: 'itulab', 32844: 'logl', 32845: 'logluv',
};
