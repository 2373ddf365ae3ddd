// Candlestick chart on lightweight-charts (canvas), updated incrementally.

import { CandlestickSeries, createChart, type IChartApi, type ISeriesApi } from 'lightweight-charts';
import { useEffect, useRef } from 'react';

import { CHART_COLORS, DARK_CHART, toChartTime, type Candle } from './charts';

export interface CandleChartProps {
  candles: readonly Candle[];
  height?: number;
}

/** Draws `candles`; a change of only the newest candle, or one new candle, is an incremental update. */
export function CandleChart({ candles, height = 320 }: CandleChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<{ api: IChartApi; series: ISeriesApi<'Candlestick'>; firstTime: number; count: number } | null>(null);

  useEffect(() => {
    if (container.current === null)
      return undefined;
    const api = createChart(container.current, DARK_CHART);
    // Rising and falling candles differ by fill (hollow rising bodies) as well as colour.
    const series = api.addSeries(CandlestickSeries, {
      upColor: 'transparent',
      borderUpColor: CHART_COLORS.up,
      wickUpColor: CHART_COLORS.up,
      downColor: CHART_COLORS.down,
      borderDownColor: CHART_COLORS.down,
      wickDownColor: CHART_COLORS.down,
    });
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
    const data = candles.map((candle) => ({ ...candle, time: toChartTime(candle.time) }));
    const first = data[0];
    const last = data.at(-1);
    if (first === undefined || last === undefined) {
      current.series.setData([]);
      current.firstTime = -1;
      current.count = 0;
      return;
    }
    if (first.time === current.firstTime && data.length - current.count <= 1 && current.count > 0)
      current.series.update(last);
    else
      current.series.setData(data);
    current.firstTime = first.time;
    current.count = data.length;
  }, [candles]);

  return <div className="chart" ref={container} style={{ height }} />;
}
