/**
 * The heatmap overlay (one float texture, coloured on the GPU): the float grid lives in one R32F texture and is coloured
 * on the GPU by our own WebGL2 canvas inside OpenSeadragon's canvas. Panning/zooming = one new affine uniform
 * and one quad; colormap = a 256×1 LUT upload; range / threshold / opacity / mode / smoothing = uniforms.
 * Nothing is recoloured on the main thread. NaN cells (not analysed yet) are transparent.
 */
import { encodeForTexture, gridDeviceBox } from './heatmap.js';

const VS = `#version 300 es
in vec2 p;
void main() { gl_Position = vec4(p, 0.0, 1.0); }`;

const FS = `#version 300 es
precision highp float;
precision highp int;
uniform highp sampler2D u_grid;
uniform sampler2D u_lut;
uniform vec3 u_ax;
uniform vec3 u_ay;
uniform ivec2 u_size;
uniform int u_mode;      // 0 for, 1 against, 2 signed, 3 probability
uniform float u_lo;
uniform float u_hi;
uniform float u_threshold;
uniform float u_opacity;
uniform bool u_smooth;
out vec4 o;
bool missing(float v) { return v < -1.0e37; } // MISSING (-3e38) marks NaN cells
float fetchc(ivec2 q) { return texelFetch(u_grid, clamp(q, ivec2(0), u_size - 1), 0).r; }
void main() {
  vec3 f = vec3(gl_FragCoord.xy, 1.0);
  vec2 cell = vec2(dot(u_ax, f), dot(u_ay, f));
  if (cell.x < 0.0 || cell.y < 0.0 || cell.x >= float(u_size.x) || cell.y >= float(u_size.y)) discard;
  float v = fetchc(ivec2(floor(cell)));
  if (missing(v)) discard;
  if (u_smooth) {
    // bilinear on the VALUES (not on colours), leaving out missing neighbours
    vec2 q = cell - 0.5;
    vec2 fl = floor(q);
    vec2 t = q - fl;
    ivec2 i0 = ivec2(fl);
    float s = 0.0, w = 0.0;
    for (int dy = 0; dy < 2; dy++) for (int dx = 0; dx < 2; dx++) {
      float vv = fetchc(i0 + ivec2(dx, dy));
      float ww = (dx == 0 ? 1.0 - t.x : t.x) * (dy == 0 ? 1.0 - t.y : t.y);
      if (!missing(vv)) { s += ww * vv; w += ww; }
    }
    if (w > 0.0) v = s / w;
  }
  float d = u_mode == 0 ? max(v, 0.0) : u_mode == 1 ? max(-v, 0.0) : v;
  float pos;
  if (u_mode == 2) {
    if (abs(d) < u_threshold) discard;
    pos = 0.5 + 0.5 * d / u_hi;
  } else {
    if (d < u_threshold) discard;
    pos = (d - u_lo) / max(u_hi - u_lo, 1e-30);
  }
  pos = clamp(pos, 0.0, 1.0);
  vec3 c = texture(u_lut, vec2(pos * (255.0 / 256.0) + 0.5 / 256.0, 0.5)).rgb;
  o = vec4(c * u_opacity, u_opacity);
}`;

export interface OverlayParams {
  mode: 'for' | 'against' | 'signed' | 'probability';
  lo: number;
  hi: number;
  threshold: number;
  opacity: number;
  smooth: boolean;
  visible: boolean;
}

const MODE_INDEX = { for: 0, against: 1, signed: 2, probability: 3 } as const;

export class HeatmapOverlay {
  /** created with the first map (a WebGL2 context costs start-up time and a composited layer on every frame) */
  private el: HTMLCanvasElement | null = null;
  private gl: WebGL2RenderingContext | null = null;
  private prog: WebGLProgram | null = null;
  private grid: WebGLTexture | null = null;
  private lut: WebGLTexture | null = null;
  private lutData: Uint8Array | null = null;
  private u: Record<string, WebGLUniformLocation | null> = {};
  private size: [number, number] = [0, 0];
  private cssSize: [number, number, number] = [1, 1, 1];
  private affine: number[] | null = null;
  private params: OverlayParams = { mode: 'for', lo: 0, hi: 1, threshold: 0, opacity: 0.6, smooth: true, visible: true };
  private hasGrid = false;
  private scratch: Float32Array | undefined;
  private destroyed = false;
  /** frames drawn with a grid (for tests) */
  drawn = 0;
  /** why the heatmap cannot be drawn (set when the first map is shown), else null */
  error: string | null = null;

  constructor(private readonly parent: HTMLElement) {}

  /** creates the canvas and its context on first use; false (and `error` set) when WebGL2 cannot draw here */
  private ensure(): boolean {
    if (this.gl) return true;
    if (this.error || this.destroyed) return false;
    const c = document.createElement('canvas');
    c.className = 'gbx-heatmap';
    Object.assign(c.style, { position: 'absolute', left: '0', top: '0', width: '100%', height: '100%', pointerEvents: 'none' });
    this.el = c;
    this.parent.appendChild(c);
    this.applySize();
    this.gl = c.getContext('webgl2', { premultipliedAlpha: true, alpha: true, antialias: false, depth: false, stencil: false });
    if (!this.gl) {
      this.error = 'WebGL2 is not available: the heatmap cannot be drawn.';
      return false;
    }
    try {
      this.init();
    } catch (e) {
      this.error = `The heatmap shader failed: ${(e as Error).message}`;
      this.gl = null;
      return false;
    }
    c.addEventListener('webglcontextlost', (e) => e.preventDefault());
    if (this.lutData) this.uploadLut(this.lutData);
    return true;
  }

  get ok(): boolean {
    return !!this.gl;
  }

  private init(): void {
    const gl = this.gl!;
    const sh = (type: number, src: string) => {
      const s = gl.createShader(type)!;
      gl.shaderSource(s, src);
      gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s) ?? 'compile error');
      return s;
    };
    const p = gl.createProgram()!;
    gl.attachShader(p, sh(gl.VERTEX_SHADER, VS));
    gl.attachShader(p, sh(gl.FRAGMENT_SHADER, FS));
    gl.linkProgram(p);
    if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(p) ?? 'link error');
    this.prog = p;
    gl.useProgram(p);
    const buf = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, buf);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
    const loc = gl.getAttribLocation(p, 'p');
    gl.enableVertexAttribArray(loc);
    gl.vertexAttribPointer(loc, 2, gl.FLOAT, false, 0, 0);
    for (const n of ['u_grid', 'u_lut', 'u_ax', 'u_ay', 'u_size', 'u_mode', 'u_lo', 'u_hi', 'u_threshold', 'u_opacity', 'u_smooth']) this.u[n] = gl.getUniformLocation(p, n);
    this.grid = gl.createTexture();
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.grid);
    for (const [k, v] of [[gl.TEXTURE_MIN_FILTER, gl.NEAREST], [gl.TEXTURE_MAG_FILTER, gl.NEAREST], [gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE], [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE]]) gl.texParameteri(gl.TEXTURE_2D, k, v);
    this.lut = gl.createTexture();
    gl.activeTexture(gl.TEXTURE1);
    gl.bindTexture(gl.TEXTURE_2D, this.lut);
    for (const [k, v] of [[gl.TEXTURE_MIN_FILTER, gl.NEAREST], [gl.TEXTURE_MAG_FILTER, gl.NEAREST], [gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE], [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE]]) gl.texParameteri(gl.TEXTURE_2D, k, v);
    gl.uniform1i(this.u.u_grid, 0);
    gl.uniform1i(this.u.u_lut, 1);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    gl.disable(gl.BLEND);
  }

  /** Uploads a rows × cols grid (NaN = missing). Same size: texSubImage2D, no reallocation. */
  setGrid(map: Float32Array, rows: number, cols: number): void {
    if (!this.ensure()) return;
    const gl = this.gl!;
    const max = gl.getParameter(gl.MAX_TEXTURE_SIZE) as number;
    if (rows > max || cols > max) throw new Error(`the map (${cols} × ${rows} cells) exceeds this GPU's texture limit of ${max}`);
    this.scratch = encodeForTexture(map, this.scratch);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.grid);
    if (this.size[0] === cols && this.size[1] === rows && this.hasGrid) gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, cols, rows, gl.RED, gl.FLOAT, this.scratch);
    else gl.texImage2D(gl.TEXTURE_2D, 0, gl.R32F, cols, rows, 0, gl.RED, gl.FLOAT, this.scratch);
    this.size = [cols, rows];
    this.hasGrid = true;
  }

  clearGrid(): void {
    this.hasGrid = false;
    this.draw();
  }

  setLut(lut: Uint8Array): void {
    this.lutData = lut;
    if (this.gl) this.uploadLut(lut);
  }

  private uploadLut(lut: Uint8Array): void {
    const gl = this.gl!;
    gl.activeTexture(gl.TEXTURE1);
    gl.bindTexture(gl.TEXTURE_2D, this.lut);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, lut.length / 4, 1, 0, gl.RGBA, gl.UNSIGNED_BYTE, lut);
  }

  setParams(p: Partial<OverlayParams>): void {
    this.params = { ...this.params, ...p };
  }

  /** Device-pixel size of the canvas (CSS size × devicePixelRatio). */
  resize(cssW: number, cssH: number, dpr: number): void {
    this.cssSize = [cssW, cssH, dpr];
    this.applySize();
  }

  private applySize(): void {
    const c = this.el;
    if (!c) return;
    const [cssW, cssH, dpr] = this.cssSize;
    const w = Math.max(1, Math.round(cssW * dpr));
    const h = Math.max(1, Math.round(cssH * dpr));
    if (c.width !== w || c.height !== h) {
      c.width = w;
      c.height = h;
    }
  }

  get deviceHeight(): number {
    return Math.max(1, Math.round(this.cssSize[1] * this.cssSize[2]));
  }

  setAffine(m: number[] | null): void {
    this.affine = m;
  }

  draw(): void {
    const gl = this.gl;
    const c = this.el;
    if (!gl || !c || gl.isContextLost()) return;
    const p = this.params;
    // nothing to show: the layer leaves the page's compositing until there is (no clear, no frame)
    const box = this.hasGrid && this.affine && p.visible && p.opacity > 0 ? gridDeviceBox(this.affine, this.size[0], this.size[1], c.width, c.height) : null;
    if (!box) {
      if (c.style.display !== 'none') c.style.display = 'none';
      return;
    }
    if (c.style.display === 'none') c.style.display = '';
    gl.viewport(0, 0, c.width, c.height);
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT);
    const m = this.affine!;
    gl.enable(gl.SCISSOR_TEST);
    gl.scissor(box[0], box[1], box[2], box[3]);
    gl.useProgram(this.prog);
    gl.uniform3f(this.u.u_ax, m[0], m[1], m[2]);
    gl.uniform3f(this.u.u_ay, m[3], m[4], m[5]);
    gl.uniform2i(this.u.u_size, this.size[0], this.size[1]);
    gl.uniform1i(this.u.u_mode, MODE_INDEX[p.mode]);
    gl.uniform1f(this.u.u_lo, p.lo);
    gl.uniform1f(this.u.u_hi, p.hi > 0 ? p.hi : 1);
    gl.uniform1f(this.u.u_threshold, p.threshold);
    gl.uniform1f(this.u.u_opacity, Math.min(1, Math.max(0, p.opacity)));
    gl.uniform1i(this.u.u_smooth, p.smooth ? 1 : 0);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    gl.disable(gl.SCISSOR_TEST);
    this.drawn++;
  }

  destroy(): void {
    const gl = this.gl;
    if (gl) {
      gl.deleteTexture(this.grid);
      gl.deleteTexture(this.lut);
      gl.deleteProgram(this.prog);
      gl.getExtension('WEBGL_lose_context')?.loseContext();
    }
    this.el?.remove();
    this.el = null;
    this.gl = null;
    this.destroyed = true;
  }
}
