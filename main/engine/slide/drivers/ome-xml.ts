/**
 * Minimal OME-XML reading (no XML dependency): the first Image's Pixels attributes, its Channels, its
 * TiffData plane -> IFD map and the first Objective's NominalMagnification. Attribute values are
 * entity-decoded; unknown structure is ignored.
 */
export interface OmeChannel { attrs: Record<string, string> }
export interface OmeImage {
  pixels: Record<string, string>;
  channels: OmeChannel[];
  tiffData: Array<Record<string, string>>;
  name: string | null;
}
export interface OmeInfo { image: OmeImage | null; creator: string | null; nominalMagnification: number | null }

const ENT: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (m, e: string) =>
    e[0] === '#' ? String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)) : ENT[e] ?? m);
}

export function attrs(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([A-Za-z_:][\w:.-]*)\s*=\s*("([^"]*)"|'([^']*)')/g)) out[m[1]] = decodeEntities(m[3] ?? m[4] ?? '');
  return out;
}

/** Elements named `name` (optionally namespace-prefixed) inside `xml`: their start-tag text. */
function startTags(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<(?:\\w+:)?${name}(?=[\\s/>])[^>]*>`, 'g'))].map((m) => m[0]);
}

export function parseOmeXml(xml: string): OmeInfo {
  const omeTag = startTags(xml, 'OME')[0];
  const creator = omeTag ? attrs(omeTag).Creator ?? null : null;
  const imgStart = xml.search(/<(?:\w+:)?Image[\s>]/);
  let image: OmeImage | null = null;
  if (imgStart >= 0) {
    const endM = /<\/(?:\w+:)?Image>/.exec(xml.slice(imgStart));
    const body = endM ? xml.slice(imgStart, imgStart + endM.index) : xml.slice(imgStart);
    const imgTag = startTags(body, 'Image')[0];
    const pixTag = startTags(body, 'Pixels')[0];
    image = {
      name: imgTag ? attrs(imgTag).Name ?? null : null,
      pixels: pixTag ? attrs(pixTag) : {},
      channels: startTags(body, 'Channel').map((t) => ({ attrs: attrs(t) })),
      tiffData: startTags(body, 'TiffData').map(attrs),
    };
  }
  const obj = startTags(xml, 'Objective')[0];
  const mag = obj ? Number(attrs(obj).NominalMagnification) : NaN;
  return { image, creator, nominalMagnification: Number.isFinite(mag) && mag > 0 ? mag : null };
}

/**
 * IFD index of every plane (c, z, t) -> ifd, for planes in DimensionOrder. Missing TiffData: plane i = IFD i.
 */
export function planeIfds(img: OmeImage, sizeC: number, sizeZ: number, sizeT: number): (c: number, z: number, t: number) => number | undefined {
  const order = (img.pixels.DimensionOrder ?? 'XYCZT').slice(2); // e.g. 'CZT'
  const size: Record<string, number> = { C: sizeC, Z: sizeZ, T: sizeT };
  const index = (c: number, z: number, t: number) => {
    const v: Record<string, number> = { C: c, Z: z, T: t };
    let i = 0, mul = 1;
    for (const d of order) { i += v[d] * mul; mul *= size[d]; }
    return i;
  };
  const total = sizeC * sizeZ * sizeT;
  const map = new Map<number, number>();
  if (img.tiffData.length === 0) for (let i = 0; i < total; i++) map.set(i, i);
  for (const td of img.tiffData) {
    const ifd = Number(td.IFD ?? 0);
    const p0 = index(Number(td.FirstC ?? 0), Number(td.FirstZ ?? 0), Number(td.FirstT ?? 0));
    const count = td.PlaneCount !== undefined ? Number(td.PlaneCount) : td.IFD !== undefined ? 1 : total;
    for (let k = 0; k < count && p0 + k < total; k++) if (!map.has(p0 + k)) map.set(p0 + k, ifd + k);
  }
  return (c, z, t) => map.get(index(c, z, t));
}
