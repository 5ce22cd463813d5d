#!/usr/bin/env python3
"""Independent readers for the export tests (test/export/*.test.ts); prints JSON on stdout.

  tiff_ref.py check                       exit 0 when PIL, numpy and openslide import
  tiff_ref.py pil-float TIFF OUTDIR       every page of a float32 TIFF through PIL (libtiff): OUTDIR/page<N>.f32
                                          (raw little-endian float32, row-major) and [{width, height, mode}] per page
  tiff_ref.py openslide TIFF X Y W H      OpenSlide's dimensions, levels, mpp (OpenSlide ≥ 4 only for generic TIFF), resolution tags and read_region((X, Y), 0, (W, H))
                                          as RGBA bytes (hex), not premultiplied
"""
import json
import sys


def main():
    cmd = sys.argv[1]
    if cmd == 'check':
        import numpy  # noqa: F401
        import openslide  # noqa: F401
        from PIL import Image  # noqa: F401
        print('ok')
        return
    if cmd == 'pil-float':
        import numpy as np
        from PIL import Image
        path, out = sys.argv[2], sys.argv[3]
        im = Image.open(path)
        pages = []
        i = 0
        while True:
            try:
                im.seek(i)
            except EOFError:
                break
            a = np.asarray(im, dtype=np.float32)
            a.astype('<f4').tofile(f'{out}/page{i}.f32')
            pages.append({'width': im.size[0], 'height': im.size[1], 'mode': im.mode})
            i += 1
        print(json.dumps(pages))
        return
    if cmd == 'openslide':
        import openslide
        path = sys.argv[2]
        x, y, w, h = (int(v) for v in sys.argv[3:7])
        s = openslide.OpenSlide(path)
        props = dict(s.properties)
        region = s.read_region((x, y), 0, (w, h))
        print(json.dumps({
            'vendor': props.get('openslide.vendor'),
            'dimensions': s.dimensions,
            'levels': s.level_dimensions,
            'downsamples': s.level_downsamples,
            'mpp': [props.get('openslide.mpp-x'), props.get('openslide.mpp-y')],
            'resolution': [props.get('tiff.XResolution'), props.get('tiff.YResolution'), props.get('tiff.ResolutionUnit')],
            'rgba': region.tobytes().hex(),
        }))
        return
    raise SystemExit(f'unknown command {cmd}')


if __name__ == '__main__':
    main()
