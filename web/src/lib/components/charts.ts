// Shared chart settings: the dark theme of lightweight-charts and point helpers.

import { ColorType, type DeepPartial, type ChartOptions, type UTCTimestamp } from 'lightweight-charts';

export const CHART_COLORS = {
  text: '#9aa4b2',
  grid: 'rgba(154, 164, 178, 0.08)',
  up: '#3ecf8e',
  down: '#ff6b6b',
  line: '#5aa9ff',
  areaTop: 'rgba(90, 169, 255, 0.35)',
  areaBottom: 'rgba(90, 169, 255, 0.02)',
};

export const DARK_CHART: DeepPartial<ChartOptions> = {
  autoSize: true,
  layout: { background: { type: ColorType.Solid, color: 'transparent' }, textColor: CHART_COLORS.text, fontFamily: 'inherit', attributionLogo: false },
  grid: { vertLines: { color: CHART_COLORS.grid }, horzLines: { color: CHART_COLORS.grid } },
  rightPriceScale: { borderVisible: false },
  timeScale: { borderVisible: false, timeVisible: true, secondsVisible: true },
  crosshair: { horzLine: { labelBackgroundColor: '#2a3240' }, vertLine: { labelBackgroundColor: '#2a3240' } },
};

/** A value at a time in milliseconds since the epoch. */
export interface TimedValue {
  time: number;
  value: number;
}

/** A candle; `time` is the start of its interval in milliseconds since the epoch. */
export interface Candle {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
}

/** Converts milliseconds to the whole seconds that lightweight-charts uses as time. */
export function toChartTime(ms: number): UTCTimestamp {
  return Math.floor(ms / 1000) as UTCTimestamp;
}

/**
 * Returns the points with at most one per second (the newest), in time order, because
 * lightweight-charts needs strictly increasing times in whole seconds.
 */
export function onePerSecond(points: readonly TimedValue[]): { time: UTCTimestamp; value: number }[] {
  const result: { time: UTCTimestamp; value: number }[] = [];
  for (const point of points) {
    const time = toChartTime(point.time);
    const last = result.at(-1);
    if (last !== undefined && last.time === time)
      last.value = point.value;
    else if (last === undefined || last.time < time)
      result.push({ time, value: point.value });
  }
  return result;
}

/** Builds candles of `intervalMs` from trades, in time order. */
export function buildCandles(trades: readonly TimedValue[], intervalMs: number): Candle[] {
  const candles: Candle[] = [];
  for (const trade of trades) {
    const start = Math.floor(trade.time / intervalMs) * intervalMs;
    const last = candles.at(-1);
    if (last !== undefined && last.time === start) {
      last.high = Math.max(last.high, trade.value);
      last.low = Math.min(last.low, trade.value);
      last.close = trade.value;
    } else if (last === undefined || last.time < start) {
      candles.push({ time: start, open: trade.value, high: trade.value, low: trade.value, close: trade.value });
    }
  }
  return candles;
}
