#!/usr/bin/python3
"""OpenSlide reference timings for bench/slides.bench.ts (Debian python3-openslide).

usage: slides_openslide.py SLIDE TILE_SIZE OVERLAP QUALITY ROUNDS
Prints one JSON object: per round, seconds for all base-level DeepZoomGenerator tiles
(get_tile + PIL JPEG encode, one thread), the tile count, and open -> first tile seconds.
"""
import io
import json
import sys
import time

from openslide import OpenSlide
from openslide.deepzoom import DeepZoomGenerator


def main():
    path, ts, ov, q, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    times, cpu, first, count = [], [], [], 0
    for _ in range(rounds):
        t0 = time.perf_counter()
        c0 = time.process_time()
        slide = OpenSlide(path)  # fresh handle: cold OpenSlide tile cache
        dz = DeepZoomGenerator(slide, tile_size=ts, overlap=ov, limit_bounds=False)
        level = dz.level_count - 1
        cols, rows = dz.level_tiles[level]
        count = 0
        for r in range(rows):
            for c in range(cols):
                buf = io.BytesIO()
                dz.get_tile(level, (c, r)).save(buf, 'JPEG', quality=q)
                if count == 0:
                    first.append(time.perf_counter() - t0)
                count += 1
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        slide.close()
    print(json.dumps({'seconds': times, 'cpu_seconds': cpu, 'tiles': count, 'first_tile_seconds': first}))


if __name__ == '__main__':
    main()
