// Painting the points with WebGL2, for millions of them. Coordinates go to a vertex buffer once per
// projection and the view is a uniform, so pan and zoom upload nothing. Density-aware: each draw
// class is accumulated into a float target (sum of colours, count of points per pixel) and then
// resolved as the mean colour at an opacity that grows with the log of the count, so where points
// pile up the picture shows how many; where they do not (a few hundred thousand points or fewer)
// every point is opaque in its own colour, as the canvas path draws it. Dimmed points are resolved
// first and full-colour points over them, as the canvas path paints them.
//
// When WebGL2 or float render targets are missing, or the context is lost, the scatter paints with
// pointsLayer.ts instead (see Scatter).

import { DIM, FULL } from './core/drawClass';
import { drawPlan, type Tiles } from './core/tiles';
import { pointRadius, type PointsPaint } from './pointsLayer';

const POINT_VS = `#version 300 es
layout(location = 0) in vec2 a_pos;
layout(location = 1) in uint a_colour;
layout(location = 2) in uint a_class;
// Device pixels from the top left = ((x, y) − u_centre) · (u_view.x, u_view.z) + (u_view.y, u_view.w):
// the centre is the data point in the middle of the view, so a deep zoom keeps float precision.
uniform vec2 u_centre;
uniform vec4 u_view;
uniform vec2 u_target; // the target's size in device pixels
uniform float u_radius; // the disc's radius in device pixels (1: a 2×2 square)
uniform uint u_pass;
uniform float u_size;
uniform highp sampler2D u_palette; // row 0 full colours, row 1 dimmed
out vec3 v_colour;
void main() {
  if (a_class != u_pass) {
    // Outside the clip volume: no fragment.
    gl_Position = vec4(2.0, 2.0, 2.0, 1.0);
    gl_PointSize = 1.0;
    return;
  }
  // Whole pixels as pointsLayer.ts places them: the disc centred on the rounded pixel, the 2×2
  // square to its lower right, and none that would cross the edge.
  vec2 s = floor((a_pos - u_centre) * u_view.xz + u_view.yw + 0.5);
  if (any(lessThan(s, vec2(u_radius))) || any(greaterThanEqual(s, u_target - u_radius))) {
    gl_Position = vec4(2.0, 2.0, 2.0, 1.0);
    gl_PointSize = 1.0;
    return;
  }
  vec2 c = s + (u_radius <= 1.0 ? 1.0 : 0.5);
  gl_Position = vec4(2.0 * c.x / u_target.x - 1.0, 1.0 - 2.0 * c.y / u_target.y, 0.0, 1.0);
  gl_PointSize = u_size;
  v_colour = texelFetch(u_palette, ivec2(int(a_colour), u_pass == ${FULL}u ? 0 : 1), 0).rgb;
}`;

const POINT_FS = `#version 300 es
precision highp float;
in vec3 v_colour;
uniform float u_disc; // squared radius in gl_PointCoord units, 0 for a square
uniform float u_weight; // how many points each drawn point stands for (level of detail)
out vec4 o;
void main() {
  vec2 d = gl_PointCoord - 0.5;
  if (u_disc > 0.0 && dot(d, d) > u_disc) discard;
  o = vec4(v_colour, 1.0) * u_weight;
}`;

const RESOLVE_VS = `#version 300 es
void main() {
  // One triangle over the whole target.
  vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
  gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}`;

const RESOLVE_FS = `#version 300 es
precision highp float;
uniform highp sampler2D u_sum;
uniform float u_logSat; // log2(1 + the count drawn at full opacity)
uniform float u_floor;  // the least opacity of a lone point
out vec4 o;
void main() {
  vec4 s = texelFetch(u_sum, ivec2(gl_FragCoord.xy), 0);
  if (s.a <= 0.0) discard;
  float alpha = u_logSat <= 1.0 ? 1.0 : clamp(log2(1.0 + s.a) / u_logSat, u_floor, 1.0);
  o = vec4(s.rgb / s.a * alpha, alpha); // premultiplied
}`;

/** Least opacity of a lone point among many, so outliers stay visible at ten million. */
const LONE_FLOOR = 0.25;

/**
 * Points one frame draws at most: on a GPU, every point up to sixteen million; on a software
 * renderer (SwiftShader, as in the headless tests, or llvmpipe), which sets up about one to two
 * million points a second on two cores (docs/BENCHMARKS.md), as many as fit in about 50 ms.
 * Beyond it a frame draws a stratified sample from the tiles in view (core/tiles.ts), each point
 * weighted by the points it stands for; zoomed in until the points in view fit, all of them.
 * Until the tiles are built, every s-th point (a systematic sample over the point order).
 */
export const FRAME_BUDGET = { gpu: 16_000_000, software: 60_000 };

/** Vertex strides are at most 255 bytes in WebGL: every 31st point of 8-byte coordinates. */
const MAX_STRIDE = 31;

export class PointsGl {
  private readonly gl: WebGL2RenderingContext;
  private readonly pointProgram: WebGLProgram;
  private readonly resolveProgram: WebGLProgram;
  private readonly vao: WebGLVertexArrayObject;
  private readonly emptyVao: WebGLVertexArrayObject;
  private readonly posBuffer: WebGLBuffer;
  private readonly colourBuffer: WebGLBuffer;
  private readonly classBuffer: WebGLBuffer;
  private readonly palette: WebGLTexture;
  private readonly sumTexture: WebGLTexture;
  private readonly sumFramebuffer: WebGLFramebuffer;
  private readonly sumFormat: number;
  private readonly u: Record<string, WebGLUniformLocation | null> = {};
  private sumSize = [0, 0];
  /** Points a frame draws at most, by the renderer (FRAME_BUDGET). */
  readonly budget: number;
  /** Whether WebGL runs on the CPU (SwiftShader, llvmpipe). */
  readonly software: boolean;
  private readonly stridedVao: WebGLVertexArrayObject;
  private stride = 0;
  private count = 0;
  /** The level-of-detail tiles, for the points they were built for; in the element buffer once `uploaded`. */
  private tiles: { coords: Float32Array; tiles: Tiles; uploaded: boolean } | null = null;
  private readonly orderBuffer: WebGLBuffer;
  private uploaded: { coords?: Float32Array; colourIndex?: Uint8Array; drawClass?: Uint8Array; full?: Uint32Array; dim?: Uint32Array } = {};

  /** A renderer on `canvas`, or null when this browser cannot give one (the canvas path is used then). */
  static create(canvas: HTMLCanvasElement): PointsGl | null {
    // preserveDrawingBuffer: what was drawn stays readable (screenshots, drawImage) until the next draw.
    const gl = canvas.getContext('webgl2', {
      antialias: false,
      depth: false,
      stencil: false,
      premultipliedAlpha: true,
      preserveDrawingBuffer: true,
    });
    if (!gl) return null;
    try {
      return new PointsGl(gl);
    } catch {
      return null;
    }
  }

  private constructor(gl: WebGL2RenderingContext) {
    this.gl = gl;
    // Counts and colour sums need a float target; a blendable 32-bit one where offered.
    if (!gl.getExtension('EXT_color_buffer_float')) throw new Error('no float render targets');
    this.sumFormat = gl.getExtension('EXT_float_blend') ? gl.RGBA32F : gl.RGBA16F;
    this.pointProgram = program(gl, POINT_VS, POINT_FS);
    this.resolveProgram = program(gl, RESOLVE_VS, RESOLVE_FS);
    for (const name of ['u_centre', 'u_view', 'u_target', 'u_radius', 'u_pass', 'u_size', 'u_palette', 'u_disc', 'u_weight'])
      this.u[name] = gl.getUniformLocation(this.pointProgram, name);
    for (const name of ['u_sum', 'u_logSat', 'u_floor']) this.u[name] = gl.getUniformLocation(this.resolveProgram, name);
    this.vao = gl.createVertexArray()!;
    this.emptyVao = gl.createVertexArray()!;
    this.posBuffer = gl.createBuffer()!;
    this.colourBuffer = gl.createBuffer()!;
    this.classBuffer = gl.createBuffer()!;
    gl.bindVertexArray(this.vao);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.posBuffer);
    gl.enableVertexAttribArray(0);
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.colourBuffer);
    gl.enableVertexAttribArray(1);
    gl.vertexAttribIPointer(1, 1, gl.UNSIGNED_BYTE, 0, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.classBuffer);
    gl.enableVertexAttribArray(2);
    gl.vertexAttribIPointer(2, 1, gl.UNSIGNED_BYTE, 0, 0);
    this.orderBuffer = gl.createBuffer()!;
    gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, this.orderBuffer);
    gl.bindVertexArray(null);
    this.palette = gl.createTexture()!;
    gl.bindTexture(gl.TEXTURE_2D, this.palette);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, 256, 2, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
    nearest(gl);
    this.sumTexture = gl.createTexture()!;
    gl.bindTexture(gl.TEXTURE_2D, this.sumTexture);
    nearest(gl);
    this.sumFramebuffer = gl.createFramebuffer()!;
    this.stridedVao = gl.createVertexArray()!;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    this.software = /swiftshader|llvmpipe|software/i.test(name);
    this.budget = this.software ? FRAME_BUDGET.software : FRAME_BUDGET.gpu;
  }

  /** Uploads what changed since the last draw (by identity: the scatter replaces arrays, it never edits them) and draws. */
  draw(p: PointsPaint): void {
    const gl = this.gl;
    this.upload(p);
    const w = gl.canvas.width;
    const h = gl.canvas.height;
    this.ensureSumTarget(w, h);
    // Device pixels = data through the frame, the zoom and the pixel ratio, as pointsLayer's screen
    // maths, taken about the data point at the middle of the view.
    const { frame, width, height, dpr: d, transform: t } = p;
    const ax = (width / (frame.x1 - frame.x0)) * t.k * d;
    const bx = (-frame.x0 * (width / (frame.x1 - frame.x0)) * t.k + t.x) * d;
    const ay = (-height / (frame.y1 - frame.y0)) * t.k * d;
    const by = ((height + (frame.y0 * height) / (frame.y1 - frame.y0)) * t.k + t.y) * d;
    const centre = [(w / 2 - bx) / ax, (h / 2 - by) / ay];
    const view = [ax, centre[0] * ax + bx, ay, centre[1] * ay + by];
    const n = this.count;
    const dot = pointRadius(n, p.dpr);
    // Points per device pixel where they are spread evenly over the plot at this zoom: the count
    // drawn at full opacity, so a lone point among many is faint and a crowd is solid.
    const area = dot <= 1 ? 4 : Math.PI * dot * dot;
    const crowd = (n * area) / (w * h * t.k * t.k);
    // The data rectangle in view, a few points wider on every side.
    const margin = (8 * dot + 2) / Math.abs(ax);
    const tiles = this.tiles?.coords === p.coords ? this.tiles.tiles : null;
    const plan = tiles
      ? drawPlan(
          tiles,
          { x0: -bx / ax - margin, x1: (w - bx) / ax + margin, y0: (h - by) / ay - margin, y1: -by / ay + margin },
          this.budget,
        )
      : null;
    const stride = plan || n <= this.budget ? 1 : Math.min(MAX_STRIDE, Math.ceil(n / this.budget));
    if (stride > 1) this.useStride(stride);
    const strided = Math.ceil(n / stride);
    this.lastPlan = plan ? { drawn: plan.drawn, inView: plan.inView } : { drawn: strided, inView: n };
    // A sample of 1 in m points is drawn as wider, fainter discs (up to 2 × the radius, the same
    // total weight): a smooth density estimate where the points it leaves out would have been,
    // not a scatter of dots with gaps between them.
    const fraction = this.lastPlan.inView > 0 ? this.lastPlan.drawn / this.lastPlan.inView : 1;
    const r = fraction < 1 ? Math.max(dot, Math.round(Math.max(dot, 1.5) * Math.min(2, Math.sqrt(1 / fraction)))) : dot;
    const size = r <= 1 ? 2 : 2 * r + 1;
    const disc = r <= 1 ? 0 : (r * r + r * 0.5) / (size * size);
    const spread = r === dot ? 1 : area / (Math.PI * (r * r + r * 0.5));

    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.viewport(0, 0, w, h);
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.enable(gl.BLEND);
    for (const pass of [DIM, FULL]) {
      if (!p.classCounts[pass]) continue;
      gl.bindFramebuffer(gl.FRAMEBUFFER, this.sumFramebuffer);
      gl.clear(gl.COLOR_BUFFER_BIT);
      gl.blendFunc(gl.ONE, gl.ONE);
      gl.useProgram(this.pointProgram);
      gl.uniform2fv(this.u.u_centre, centre);
      gl.uniform4fv(this.u.u_view, view);
      gl.uniform2f(this.u.u_target, w, h);
      gl.uniform1f(this.u.u_radius, r);
      gl.uniform1ui(this.u.u_pass, pass);
      gl.uniform1f(this.u.u_size, size);
      gl.uniform1f(this.u.u_disc, disc);
      gl.activeTexture(gl.TEXTURE0);
      gl.bindTexture(gl.TEXTURE_2D, this.palette);
      gl.uniform1i(this.u.u_palette, 0);
      gl.bindVertexArray(this.vao);
      if (plan) {
        for (let k = 0; k < plan.first.length; k++) {
          gl.uniform1f(this.u.u_weight, plan.weight[k] * spread);
          gl.drawElements(gl.POINTS, plan.count[k], gl.UNSIGNED_INT, plan.first[k] * 4);
        }
      } else if (stride > 1) {
        gl.bindVertexArray(this.stridedVao);
        gl.uniform1f(this.u.u_weight, (n / strided) * spread);
        gl.drawArrays(gl.POINTS, 0, strided);
      } else {
        gl.uniform1f(this.u.u_weight, 1);
        gl.drawArrays(gl.POINTS, 0, n);
      }

      gl.bindFramebuffer(gl.FRAMEBUFFER, null);
      gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
      gl.useProgram(this.resolveProgram);
      gl.bindTexture(gl.TEXTURE_2D, this.sumTexture);
      gl.uniform1i(this.u.u_sum, 0);
      gl.uniform1f(this.u.u_logSat, Math.log2(1 + Math.max(1, crowd)));
      gl.uniform1f(this.u.u_floor, LONE_FLOOR);
      gl.bindVertexArray(this.emptyVao);
      gl.drawArrays(gl.TRIANGLES, 0, 3);
    }
    gl.bindVertexArray(null);
    gl.disable(gl.BLEND);
  }

  /** Whether `n` points need the level-of-detail tiles to keep a frame within its budget. */
  wantsTiles(n: number): boolean {
    return n > this.budget;
  }

  /** The vertex arrays of `stridedVao` read every s-th point. */
  private useStride(s: number): void {
    if (this.stride === s) return;
    const gl = this.gl;
    gl.bindVertexArray(this.stridedVao);
    const attribs: [WebGLBuffer, number, number][] = [
      [this.posBuffer, 0, 8 * s],
      [this.colourBuffer, 1, s],
      [this.classBuffer, 2, s],
    ];
    for (const [buffer, loc, bytes] of attribs) {
      gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
      gl.enableVertexAttribArray(loc);
      if (loc === 0) gl.vertexAttribPointer(0, 2, gl.FLOAT, false, bytes, 0);
      else gl.vertexAttribIPointer(loc, 1, gl.UNSIGNED_BYTE, bytes, 0);
    }
    gl.bindVertexArray(null);
    gl.bindBuffer(gl.ARRAY_BUFFER, null);
    this.stride = s;
  }

  /** The tiles of `coords`, used while those are the points drawn. */
  setTiles(coords: Float32Array, tiles: Tiles): void {
    this.tiles = { coords, tiles, uploaded: false };
  }

  /** Points the last frame drew, and points in the tiles in view (all points without tiles). */
  lastPlan = { drawn: 0, inView: 0 };

  isLost(): boolean {
    return this.gl.isContextLost();
  }

  private upload(p: PointsPaint): void {
    const gl = this.gl;
    const was = this.uploaded;
    if (was.coords !== p.coords) {
      gl.bindBuffer(gl.ARRAY_BUFFER, this.posBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, p.coords, gl.STATIC_DRAW);
      this.count = p.coords.length >> 1;
    }
    if (was.colourIndex !== p.colourIndex) {
      gl.bindBuffer(gl.ARRAY_BUFFER, this.colourBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, sized(p.colourIndex, this.count), gl.STATIC_DRAW);
    }
    if (was.drawClass !== p.drawClass) {
      gl.bindBuffer(gl.ARRAY_BUFFER, this.classBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, sized(p.drawClass, this.count), gl.DYNAMIC_DRAW);
    }
    if (was.full !== p.fullColours || was.dim !== p.dimColours) {
      // Packed RGBA (R in the low byte): little-endian bytes are R, G, B, A.
      const rows = new Uint32Array(512);
      rows.set(p.fullColours.subarray(0, 256), 0);
      rows.set(p.dimColours.subarray(0, 256), 256);
      gl.bindTexture(gl.TEXTURE_2D, this.palette);
      gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, 256, 2, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(rows.buffer));
    }
    gl.bindBuffer(gl.ARRAY_BUFFER, null);
    if (this.tiles && this.tiles.coords === p.coords && !this.tiles.uploaded) {
      gl.bindVertexArray(this.vao);
      gl.bufferData(gl.ELEMENT_ARRAY_BUFFER, this.tiles.tiles.order, gl.STATIC_DRAW);
      gl.bindVertexArray(null);
      this.tiles.uploaded = true;
    }
    this.uploaded = { coords: p.coords, colourIndex: p.colourIndex, drawClass: p.drawClass, full: p.fullColours, dim: p.dimColours };
  }

  private ensureSumTarget(w: number, h: number): void {
    if (this.sumSize[0] === w && this.sumSize[1] === h) return;
    const gl = this.gl;
    gl.bindTexture(gl.TEXTURE_2D, this.sumTexture);
    gl.texImage2D(gl.TEXTURE_2D, 0, this.sumFormat, w, h, 0, gl.RGBA, this.sumFormat === gl.RGBA32F ? gl.FLOAT : gl.HALF_FLOAT, null);
    gl.bindFramebuffer(gl.FRAMEBUFFER, this.sumFramebuffer);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, this.sumTexture, 0);
    if (gl.checkFramebufferStatus(gl.FRAMEBUFFER) !== gl.FRAMEBUFFER_COMPLETE) throw new Error('float render target incomplete');
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    this.sumSize = [w, h];
  }
}

/** A per-point byte array of exactly n entries (an attribute buffer shorter than the draw is an error). */
function sized(a: Uint8Array, n: number): Uint8Array {
  if (a.length === n) return a;
  const out = new Uint8Array(n);
  out.set(a.subarray(0, n));
  return out;
}

function nearest(gl: WebGL2RenderingContext): void {
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
}

function program(gl: WebGL2RenderingContext, vs: string, fs: string): WebGLProgram {
  const p = gl.createProgram()!;
  for (const [type, src] of [
    [gl.VERTEX_SHADER, vs],
    [gl.FRAGMENT_SHADER, fs],
  ] as const) {
    const s = gl.createShader(type)!;
    gl.shaderSource(s, src);
    gl.compileShader(s);
    if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(`points shader: ${gl.getShaderInfoLog(s)}`);
    gl.attachShader(p, s);
  }
  gl.linkProgram(p);
  if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new Error(`points program: ${gl.getProgramInfoLog(p)}`);
  return p;
}
