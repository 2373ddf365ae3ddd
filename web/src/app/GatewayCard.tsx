// livegate's own figures (connections, event rates, drops, script errors, source
// health) from the livegate.stats channel, which livegate publishes itself
// (server.stats). The page cannot fetch the admin API's /api/stats: the admin
// listener is another origin, sends no CORS headers and rejects requests from pages.

import { AnimatedNumber, MetricCard, useChannel, type Envelope } from '../lib';
import { formatCount, formatFixed } from './format';

export const STATS_CHANNEL = 'livegate.stats';

// The shape beside each source's health word, so that health does not rest on colour alone.
const HEALTH_SHAPES: Record<string, string> = { ok: '●', degraded: '▲', failed: '✕' };

type Fields = Record<string, unknown>;

function asFields(value: unknown): Fields {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : {};
}

function total(value: unknown): number {
  if (typeof value === 'number')
    return value;
  return Object.values(asFields(value)).reduce((sum: number, item) => sum + (typeof item === 'number' ? item : 0), 0);
}

// Events per second between two stats samples, or undefined without two samples.
function rate(previous: Envelope | undefined, latest: Envelope | null, field: string): number | undefined {
  if (previous === undefined || latest === null || latest.time <= previous.time)
    return undefined;
  const delta = total(asFields(latest.data)[field]) - total(asFields(previous.data)[field]);
  return delta < 0 ? undefined : (delta * 1000) / (latest.time - previous.time);
}

export function GatewayCard() {
  const stats = useChannel(STATS_CHANNEL, { historyLength: 10 });
  const fields = asFields(stats.latest?.data);
  const previous = stats.history.at(-2);
  const fresh = stats.status.state === 'live';

  if (stats.latest === null) {
    return (
      <MetricCard title="livegate" testId="card-gateway" placeholder="no stats yet">
        <p className="card-note">
          This card shows the channel <code>{STATS_CHANNEL}</code>, which livegate publishes every
          {' '}<code>server.stats.interval</code> when a channel rule matches it (see the README, "Dashboard").
        </p>
      </MetricCard>
    );
  }

  const sources = Array.isArray(fields.sources) ? (fields.sources as unknown[]).map(asFields) : [];
  const scripts = Array.isArray(fields.scripts) ? (fields.scripts as unknown[]).map(asFields) : [];
  const scriptErrors = scripts.reduce((sum, script) => sum + (typeof script.errors === 'number' ? script.errors : 0), 0);
  const eventsIn = rate(previous, stats.latest, 'events_in');
  const eventsOut = rate(previous, stats.latest, 'events_out');

  return (
    <MetricCard title="livegate" fresh={fresh} testId="card-gateway" value={<AnimatedNumber value={total(fields.connections)} format={formatCount} testId="gateway-connections" />} unit="connections">
      <dl className="stats">
        <div><dt>events in/s</dt><dd className="tabular">{eventsIn === undefined ? '–' : formatFixed(1)(eventsIn)}</dd></div>
        <div><dt>events out/s</dt><dd className="tabular">{eventsOut === undefined ? '–' : formatFixed(1)(eventsOut)}</dd></div>
        <div><dt>dropped</dt><dd className="tabular">{formatCount(total(fields.dropped))}</dd></div>
        <div><dt>Lua errors</dt><dd className="tabular">{formatCount(scriptErrors)}</dd></div>
      </dl>
      <ul className="sources">
        {sources.map((source) => {
          const health = String(source.status ?? source.health ?? 'unknown');
          return (
            <li key={String(source.name)} data-health={health}>
              <span aria-hidden="true">{HEALTH_SHAPES[health] ?? '?'}</span> {String(source.name)} <span className="muted">{health}</span>
            </li>
          );
        })}
      </ul>
    </MetricCard>
  );
}
