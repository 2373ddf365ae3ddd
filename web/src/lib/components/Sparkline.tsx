// A small line chart for dense metric series, drawn by uPlot on a canvas.

import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

import { CHART_COLORS, type TimedValue } from './charts';

export interface SparklineProps {
  points: readonly TimedValue[];
  width?: number;
  height?: number;
  color?: string;
  /** Fixed y range, such as [0, 100] for percentages; by default the data's range. */
  range?: [number, number];
  label?: string;
}

/** Draws `points` as a line without axes; new data goes through uPlot's setData, the canvas is kept. */
export function Sparkline({ points, width = 220, height = 48, color = CHART_COLORS.line, range, label }: SparklineProps) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    if (container.current === null || typeof HTMLCanvasElement === 'undefined')
      return undefined;
    const options: uPlot.Options = {
      width,
      height,
      cursor: { show: false },
      legend: { show: false },
      axes: [{ show: false }, { show: false }],
      scales: { x: { time: false }, y: range === undefined ? {} : { range: () => range } },
      series: [{}, { stroke: color, width: 1.5, fill: `${color}22`, points: { show: false } }],
    };
    try {
      plot.current = new uPlot(options, [[], []], container.current);
    } catch (error) {
      // happy-dom has no 2D canvas context; the page then shows no line, and the numbers stay.
      console.warn(`livegate: sparkline disabled: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
    // The options are fixed at mount; a different size or colour needs a new key.
  }, []);

  useEffect(() => {
    plot.current?.setData([points.map((point) => point.time / 1000), points.map((point) => point.value)]);
  }, [points]);

  return <div className="sparkline" ref={container} style={{ width, height }} role="img" aria-label={label} />;
}
