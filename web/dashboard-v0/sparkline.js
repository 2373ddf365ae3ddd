// Fixed-size sample history and a canvas sparkline that draws one or more of them.

// The newest `capacity` numbers; pushing past the capacity drops the oldest sample.
export class SampleRing {
  #samples;
  #start = 0;
  #length = 0;

  constructor(capacity) {
    this.#samples = new Float64Array(capacity);
  }

  get capacity() {
    return this.#samples.length;
  }

  get length() {
    return this.#length;
  }

  push(value) {
    const capacity = this.#samples.length;
    this.#samples[(this.#start + this.#length) % capacity] = value;
    if (this.#length < capacity)
      this.#length += 1;
    else
      this.#start = (this.#start + 1) % capacity;
  }

  // Returns the sample at `index`, counted from the oldest one kept.
  at(index) {
    return this.#samples[(this.#start + index) % this.#samples.length];
  }

  clear() {
    this.#start = 0;
    this.#length = 0;
  }
}

const LINE_WIDTH_PX = 1.5;
const DASH_PX = [4, 3];
const FILL_ALPHA = 0.14;
const PADDING_PX = 3;
const DOT_RADIUS_PX = 2;

// Draws sample rings as lines on a canvas, newest sample at the right edge, with the
// backing store scaled by devicePixelRatio so lines stay sharp on high-density screens.
// Each series is { color: CSS custom property name, dashed: boolean }. The vertical
// scale runs from `min` to `max`. Without `max`, the top is the largest sample but at
// least `floor`, so a quiet series stays a flat line near the bottom.
export class Sparkline {
  #canvas;
  #context;
  #series;
  #min;
  #max;
  #floor;
  #cssWidth = 0;
  #cssHeight = 0;
  #observer;

  constructor(canvas, { series, min = 0, max = null, floor = 1, onResize = () => {} }) {
    this.#canvas = canvas;
    this.#context = canvas.getContext('2d');
    this.#series = series.map((item) => ({ ...item, stroke: readColor(canvas, item.color) }));
    this.#min = min;
    this.#max = max;
    this.#floor = floor;

    // The observer caches the CSS size, so drawing never forces a layout.
    this.#observer = new ResizeObserver(([entry]) => {
      this.#cssWidth = entry.contentRect.width;
      this.#cssHeight = entry.contentRect.height;
      onResize();
    });
    this.#observer.observe(canvas);
  }

  // Draws one ring per series, in the order the series were given.
  draw(rings) {
    if (!this.#fitBackingStore())
      return;

    const context = this.#context;
    context.clearRect(0, 0, this.#cssWidth, this.#cssHeight);

    const top = this.#scaleTop(rings);
    rings.forEach((ring, index) => this.#drawSeries(ring, this.#series[index], top));
  }

  destroy() {
    this.#observer.disconnect();
  }

  // Resizes the backing store to the CSS size times devicePixelRatio (which changes
  // with browser zoom) and returns false while the canvas has no size yet.
  #fitBackingStore() {
    if (this.#cssWidth === 0 || this.#cssHeight === 0)
      return false;

    const ratio = window.devicePixelRatio || 1;
    const width = Math.round(this.#cssWidth * ratio);
    const height = Math.round(this.#cssHeight * ratio);
    if (this.#canvas.width !== width || this.#canvas.height !== height) {
      this.#canvas.width = width;
      this.#canvas.height = height;
    }
    this.#context.setTransform(width / this.#cssWidth, 0, 0, height / this.#cssHeight, 0, 0);
    return true;
  }

  #scaleTop(rings) {
    if (this.#max !== null)
      return this.#max;

    let top = this.#floor;
    for (const ring of rings) {
      for (let i = 0; i < ring.length; i += 1) {
        const value = ring.at(i);
        if (value > top)
          top = value;
      }
    }
    return top;
  }

  #drawSeries(ring, series, top) {
    if (ring.length === 0)
      return;

    const width = this.#cssWidth - 2 * PADDING_PX;
    const height = this.#cssHeight - 2 * PADDING_PX;
    const step = width / Math.max(1, ring.capacity - 1);
    const firstX = PADDING_PX + width - (ring.length - 1) * step;
    const range = Math.max(top - this.#min, Number.EPSILON);
    const toY = (value) => PADDING_PX + height - ((clamp(value, this.#min, top) - this.#min) / range) * height;

    // Missing samples (NaN) break the line rather than drawing it through zero.
    const runs = [];
    let run = [];
    for (let i = 0; i < ring.length; i += 1) {
      const value = ring.at(i);
      if (Number.isFinite(value)) {
        run.push([firstX + i * step, toY(value)]);
        continue;
      }
      if (run.length > 0)
        runs.push(run);
      run = [];
    }
    if (run.length > 0)
      runs.push(run);

    for (const points of runs)
      this.#strokeRun(points, series);

    const newest = ring.at(ring.length - 1);
    if (Number.isFinite(newest))
      this.#drawDot(PADDING_PX + width, toY(newest), series);
  }

  #strokeRun(points, series) {
    const context = this.#context;
    const lastX = points[points.length - 1][0];

    if (!series.dashed) {
      this.#tracePath(points);
      context.lineTo(lastX, this.#cssHeight);
      context.lineTo(points[0][0], this.#cssHeight);
      context.closePath();
      context.globalAlpha = FILL_ALPHA;
      context.fillStyle = series.stroke;
      context.fill();
      context.globalAlpha = 1;
    }

    this.#tracePath(points);
    context.setLineDash(series.dashed ? DASH_PX : []);
    context.lineWidth = LINE_WIDTH_PX;
    context.lineJoin = 'round';
    context.strokeStyle = series.stroke;
    context.stroke();
  }

  #drawDot(x, y, series) {
    const context = this.#context;
    context.beginPath();
    context.arc(x, y, DOT_RADIUS_PX, 0, 2 * Math.PI);
    context.fillStyle = series.stroke;
    context.fill();
  }

  #tracePath(points) {
    const context = this.#context;
    context.beginPath();
    context.moveTo(points[0][0], points[0][1]);
    for (let i = 1; i < points.length; i += 1)
      context.lineTo(points[i][0], points[i][1]);
  }
}

function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

// Reads a colour custom property (such as --series-1) from the canvas's computed style.
function readColor(element, property) {
  return getComputedStyle(element).getPropertyValue(property).trim() || 'gray';
}
