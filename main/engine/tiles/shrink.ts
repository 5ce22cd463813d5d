/** 2×2 box-filter shrink of RGB rows (the `mean` region shrink of vips dzsave). Odd sizes keep the last row/column alone. */
export function downsampleRows(src: Uint8Array, width: number, rows: number): Uint8Array {
  const ow = Math.ceil(width / 2);
  const orows = Math.ceil(rows / 2);
  const out = new Uint8Array(ow * orows * 3);
  const rb = width * 3;
  const full = width >> 1; // output columns built from 2 source columns
  for (let oy = 0; oy < orows; oy++) {
    const a = oy * 2 * rb;
    const b = oy * 2 + 1 < rows ? a + rb : a; // last odd row pairs with itself
    let o = oy * ow * 3;
    let i = 0;
    for (let ox = 0; ox < full; ox++, i += 6, o += 3) {
      out[o] = (src[a + i] + src[a + i + 3] + src[b + i] + src[b + i + 3] + 2) >> 2;
      out[o + 1] = (src[a + i + 1] + src[a + i + 4] + src[b + i + 1] + src[b + i + 4] + 2) >> 2;
      out[o + 2] = (src[a + i + 2] + src[a + i + 5] + src[b + i + 2] + src[b + i + 5] + 2) >> 2;
    }
    if (width & 1) {
      out[o] = (src[a + i] + src[b + i] + 1) >> 1;
      out[o + 1] = (src[a + i + 1] + src[b + i + 1] + 1) >> 1;
      out[o + 2] = (src[a + i + 2] + src[b + i + 2] + 1) >> 1;
    }
  }
  return out;
}
