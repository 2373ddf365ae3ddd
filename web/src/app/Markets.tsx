// Markets view: a watchlist of prices.SYMBOL channels with flashing prices, and price
// and candle charts of the selected symbol from its prices.SYMBOL and trades.SYMBOL channels.

import { memo, useMemo, useState } from 'react';

import { CandleChart, FlashingValue, PriceChart, buildCandles, useChannel, type TimedValue } from '../lib';
import { formatChange, formatPrice } from './format';

/** Channel listing the symbols to show, as {"symbols": [...]}; the demo feed publishes it. */
export const SYMBOLS_CHANNEL = 'markets.symbols';

// Candles of the chart, built in the page from trades.
const CANDLE_INTERVAL_MS = 5000;
const TRADE_HISTORY = 2000;
const PRICE_HISTORY = 600;

type Quote = { price?: number; open?: number; bid?: number; ask?: number };

function symbolsFromUrl(): string[] {
  const text = new URLSearchParams(window.location.search).get('symbols');
  return text === null ? [] : text.split(',').map((symbol) => symbol.trim()).filter((symbol) => symbol !== '');
}

function priceOf(data: unknown): number | undefined {
  const value = (data as Quote | null)?.price;
  return typeof value === 'number' ? value : undefined;
}

export function Markets() {
  const listed = useChannel(SYMBOLS_CHANNEL);
  const fromUrl = useMemo(symbolsFromUrl, []);
  const listedSymbols = (listed.latest?.data as { symbols?: unknown } | null)?.symbols;
  const symbols = fromUrl.length > 0 ? fromUrl : Array.isArray(listedSymbols) ? listedSymbols.filter((symbol): symbol is string => typeof symbol === 'string') : [];
  const [selected, setSelected] = useState<string | null>(null);
  const current = selected ?? symbols[0] ?? null;

  if (symbols.length === 0) {
    return (
      <div className="view">
        <p className="card-note" data-testid="markets-empty">
          No symbols yet. Start the demo feed (<code>node web/demo/feed.mjs</code>), which lists its symbols in <code>{SYMBOLS_CHANNEL}</code>,
          or name symbols in the page address: <code>?symbols=AAPL,MSFT#/markets</code>.
        </p>
      </div>
    );
  }

  // While the connection is not live the prices stay, dimmed and marked as the last known ones.
  const fresh = listed.status.state === 'live';

  return (
    <div className="view markets">
      <table className="watchlist" data-testid="watchlist" data-fresh={fresh}>
        {!fresh && (
          <caption className="card-stale" data-testid="watchlist-stale" title="the connection is not live: these are the last prices received">
            last known prices
          </caption>
        )}
        <thead>
          <tr><th scope="col">symbol</th><th scope="col" className="num">price</th><th scope="col" className="num">change</th></tr>
        </thead>
        <tbody>
          {symbols.map((symbol) => (
            <WatchRow key={symbol} symbol={symbol} selected={symbol === current} onSelect={setSelected} />
          ))}
        </tbody>
      </table>
      {current !== null && <SymbolCharts symbol={current} />}
    </div>
  );
}

const WatchRow = memo(function WatchRow({ symbol, selected, onSelect }: { symbol: string; selected: boolean; onSelect: (symbol: string) => void }) {
  const { latest } = useChannel(`prices.${symbol}`, { historyLength: 1 });
  const quote = (latest?.data ?? {}) as Quote;
  const percent = typeof quote.price === 'number' && typeof quote.open === 'number' && quote.open !== 0 ? ((quote.price - quote.open) / quote.open) * 100 : NaN;
  const change = formatChange(percent);

  return (
    <tr aria-selected={selected} data-symbol={symbol} onClick={() => onSelect(symbol)}>
      <th scope="row"><button type="button" className="symbol" onClick={() => onSelect(symbol)}>{symbol}</button></th>
      <td className="num">{typeof quote.price === 'number' ? <FlashingValue value={quote.price} format={formatPrice} testId={`price-${symbol}`} /> : '–'}</td>
      <td className="num tabular" data-trend={change.trend}>{change.text}</td>
    </tr>
  );
});

function SymbolCharts({ symbol }: { symbol: string }) {
  const prices = useChannel(`prices.${symbol}`, { historyLength: PRICE_HISTORY });
  const trades = useChannel(`trades.${symbol}`, { historyLength: TRADE_HISTORY });

  const pricePoints = useMemo(() => toPoints(prices.history), [prices.history]);
  const candles = useMemo(() => buildCandles(toPoints(trades.history), CANDLE_INTERVAL_MS), [trades.history]);

  return (
    <section className="charts" aria-label={`${symbol} charts`}>
      <h2>{symbol} <span className="muted">price</span></h2>
      <PriceChart points={pricePoints} height={220} />
      <h2>{symbol} <span className="muted">candles, {CANDLE_INTERVAL_MS / 1000} s from trades</span></h2>
      {candles.length === 0 ? <p className="card-note">waiting for trades on trades.{symbol}</p> : <CandleChart candles={candles} height={280} />}
    </section>
  );
}

function toPoints(events: readonly { time: number; data: unknown }[]): TimedValue[] {
  const points: TimedValue[] = [];
  for (const event of events) {
    const price = priceOf(event.data);
    if (price !== undefined)
      points.push({ time: event.time, value: price });
  }
  return points;
}
