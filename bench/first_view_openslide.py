#!/usr/bin/python3
"""The peer of bench/first-view.bench.ts: OpenSlide's Deep Zoom generator behind a threaded HTTP server
(the shape of openslide-python's examples/deepzoom/deepzoom_server.py), showing the slide in the same
OpenSeadragon build with the same viewer options the bench passes.

usage: first_view_openslide.py SLIDE OPENSEADRAGON_JS OPTIONS_JSON
Prints "listening on http://127.0.0.1:PORT/" once ready; serves until killed.
The page exposes the same data-testid=viewer / data-state / data-moving / data-zoom attributes
as Glassbox's viewer and the same keys (+ - arrows 0), so the bench drives both the same way.
"""
import io
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from openslide import OpenSlide
from openslide.deepzoom import DeepZoomGenerator

PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>html,body{margin:0;height:100%%;background:#15171b}
#v{position:absolute;inset:0}</style></head><body><div id="v" data-testid="viewer" data-state="empty" data-moving="0"></div>
<script src="/osd.js"></script><script>
const el = document.getElementById('v');
const v = OpenSeadragon(Object.assign({ element: el, tileSources: '/slide.dzi' }, %s));
v.addHandler('open', () => {
  el.dataset.state = 'loading';
  v.world.getItemAt(0).addHandler('fully-loaded-change', (e) => (el.dataset.state = e.fullyLoaded ? 'ready' : 'loading'));
});
v.addHandler('animation-start', () => (el.dataset.moving = '1'));
v.addHandler('animation-finish', () => (el.dataset.moving = '0'));
window.addEventListener('keydown', (e) => {
  const b = v.viewport.getBounds();
  const pan = (dx, dy) => v.viewport.panBy(new OpenSeadragon.Point(dx * b.width, dy * b.height));
  const k = { '+': () => v.viewport.zoomBy(1.5), '-': () => v.viewport.zoomBy(1 / 1.5), '0': () => v.viewport.goHome(),
    ArrowLeft: () => pan(-0.15, 0), ArrowRight: () => pan(0.15, 0), ArrowUp: () => pan(0, -0.15), ArrowDown: () => pan(0, 0.15) }[e.key];
  if (k) { e.preventDefault(); k(); v.viewport.applyConstraints(); }
});
</script></body></html>"""


def main():
    path, osd_js, options = sys.argv[1], sys.argv[2], sys.argv[3]
    slide = OpenSlide(path)
    dz = DeepZoomGenerator(slide, tile_size=254, overlap=1, limit_bounds=False)
    with open(osd_js, 'rb') as f:
        osd = f.read()
    page = (PAGE % options).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def log_message(self, *args):
            pass

        def send(self, body, ctype, code=200):
            self.send_response(code)
            self.send_header('Content-Type', ctype)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            p = self.path.split('?')[0]
            if p == '/':
                return self.send(page, 'text/html; charset=utf-8')
            if p == '/osd.js':
                return self.send(osd, 'application/javascript')
            if p == '/slide.dzi':
                return self.send(dz.get_dzi('jpeg').encode(), 'application/xml')
            if p.startswith('/slide_files/'):
                try:
                    level, name = p[len('/slide_files/'):].split('/')
                    col, row = name.split('.')[0].split('_')
                    tile = dz.get_tile(int(level), (int(col), int(row)))
                except (ValueError, IndexError):
                    return self.send(b'not found', 'text/plain', 404)
                buf = io.BytesIO()
                tile.save(buf, 'JPEG', quality=85)
                return self.send(buf.getvalue(), 'image/jpeg')
            self.send(b'not found', 'text/plain', 404)

    srv = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    srv.daemon_threads = True
    print(f'listening on http://127.0.0.1:{srv.server_address[1]}/', flush=True)
    srv.serve_forever()


if __name__ == '__main__':
    main()
