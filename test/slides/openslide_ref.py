#!/usr/bin/python3
"""OpenSlide reference pixels for Glassbox's cross-check tests.

Usage (always with Debian's /usr/bin/python3, which has openslide-python):
  openslide_ref.py check                 -> prints {"openslide": "<lib version>", "python": "<binding version>"}
  openslide_ref.py info SLIDE            -> prints {"levels": [[w, h], ...], "downsamples": [...]} or exits 3
  openslide_ref.py regions CASES.json    -> CASES.json is a list of
        {"slide": path, "x": int, "y": int, "level": int, "w": int, "h": int, "out": path}
     writes each region as raw interleaved 8-bit RGB (w*h*3 bytes) to "out": read_region's RGBA is
     composited on white (OpenSlide returns premultiplied ARGB, so transparent pixels are (0,0,0,0)).
     Prints {"written": n}.
Exit codes: 2 = openslide-python missing, 3 = OpenSlide cannot open the slide, 1 = other error.
"""
import json
import sys


def load_openslide():
    try:
        import openslide  # noqa: WPS433
    except Exception as e:  # pragma: no cover - depends on the machine
        print(json.dumps({"error": "openslide-python not importable: %s" % e}))
        sys.exit(2)
    return openslide


def to_rgb_on_white(img):
    from PIL import Image
    img = img.convert("RGBA")
    bg = Image.new("RGBA", img.size, (255, 255, 255, 255))
    bg.alpha_composite(img)
    return bg.convert("RGB")


def open_slide(openslide, path):
    try:
        return openslide.OpenSlide(path)
    except Exception as e:
        print(json.dumps({"error": "OpenSlide cannot open %s: %s" % (path, e)}))
        sys.exit(3)


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 1
    openslide = load_openslide()
    cmd = argv[1]
    if cmd == "check":
        print(json.dumps({"openslide": openslide.__library_version__, "python": openslide.__version__}))
        return 0
    if cmd == "info":
        s = open_slide(openslide, argv[2])
        print(json.dumps({"levels": [list(d) for d in s.level_dimensions],
                          "downsamples": list(s.level_downsamples)}))
        return 0
    if cmd == "regions":
        with open(argv[2]) as f:
            cases = json.load(f)
        slides = {}
        n = 0
        for c in cases:
            path = c["slide"]
            if path not in slides:
                slides[path] = open_slide(openslide, path)
            img = slides[path].read_region((int(c["x"]), int(c["y"])), int(c["level"]), (int(c["w"]), int(c["h"])))
            rgb = to_rgb_on_white(img)
            data = rgb.tobytes()
            assert len(data) == int(c["w"]) * int(c["h"]) * 3
            with open(c["out"], "wb") as f:
                f.write(data)
            n += 1
        print(json.dumps({"written": n}))
        return 0
    print(json.dumps({"error": "unknown command %s" % cmd}))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
