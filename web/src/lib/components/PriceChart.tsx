// Area chart of a price series on lightweight-charts (canvas), updated incrementally.

import { AreaSeries, createChart, type IChartApi, type ISeriesApi } from 'lightweight-charts';
import { useEffect, useRef } from 'react';

import { CHART_COLORS, DARK_CHART, onePerSecond, type TimedValue } from './charts';

export interface PriceChartProps {
  points: readonly TimedValue[];
  height?: number;
}

/**
 * Draws `points` as an area. When the new points only extend the old ones, the last
 * point is updated or appended (series.update) instead of redrawing the whole series.
 */
export function PriceChart({ points, height = 260 }: PriceChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<{ api: IChartApi; series: ISeriesApi<'Area'>; firstTime: number; count: number } | null>(null);

  useEffect(() => {
    if (container.current === null)
      return undefined;
    const api = createChart(container.current, DARK_CHART);
    const series = api.addSeries(AreaSeries, { lineColor: CHART_COLORS.line, topColor: CHART_COLORS.areaTop, bottomColor: CHART_COLORS.areaBottom, lineWidth: 2 });
    chart.current = { api, series, firstTime: -1, count: 0 };
    return () => {
      chart.current = null;
      api.remove();
    };
  }, []);

  useEffect(() => {
    const current = chart.current;
    if (current === null)
      return;
    const data = onePerSecond(points);
    const first = data[0];
    const last = data.at(-1);
    if (first === undefined || last === undefined) {
      current.series.setData([]);
      current.firstTime = -1;
      current.count = 0;
      return;
    }
    // Same start and at most one new second: an incremental update is enough.
    if (first.time === current.firstTime && data.length - current.count <= 1 && current.count > 0)
      current.series.update(last);
    else
      current.series.setData(data);
    current.firstTime = first.time;
    current.count = data.length;
  }, [points]);

  return <div className="chart" ref={container} style={{ height }} />;
}
