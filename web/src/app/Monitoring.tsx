// Monitoring view: this machine's metrics from the system.* channels and livegate's own
// figures from the livegate.stats channel.

import { useMemo } from 'react';

import { AnimatedNumber, MetricCard, PercentageBar, Sparkline, useChannel, type ChannelView, type TimedValue } from '../lib';
import { formatAge, formatByteRate, formatBytes, formatCount, formatFixed } from './format';
import { GatewayCard } from './GatewayCard';
import { useNow } from './useNow';

// Two minutes of one-second samples.
const HISTORY_LENGTH = 120;
const CHANNEL_OPTIONS = { historyLength: HISTORY_LENGTH, keepHistoryOnReset: true };

type Fields = Record<string, unknown>;

function fieldsOf(view: ChannelView): Fields | null {
  const data = view.latest?.data;
  return data !== null && typeof data === 'object' ? (data as Fields) : null;
}

function numberField(fields: Fields | null, name: string): number | undefined {
  const value = fields?.[name];
  return typeof value === 'number' ? value : undefined;
}

// Returns a series of `pick` over a channel's history, skipping events without the field.
function series(view: ChannelView, pick: (fields: Fields) => number | undefined): TimedValue[] {
  const points: TimedValue[] = [];
  for (const event of view.history) {
    const fields = event.data as Fields | null;
    const value = fields !== null && typeof fields === 'object' ? pick(fields) : undefined;
    if (value !== undefined && Number.isFinite(value))
      points.push({ time: event.time, value });
  }
  return points;
}

function sumOf(list: unknown, name: string): number | undefined {
  if (!Array.isArray(list))
    return undefined;
  return list.reduce((total: number, item: unknown) => total + (typeof (item as Fields)?.[name] === 'number' ? ((item as Fields)[name] as number) : 0), 0);
}

export function Monitoring() {
  const cpu = useChannel('system.cpu', CHANNEL_OPTIONS);
  const memory = useChannel('system.memory', CHANNEL_OPTIONS);
  const load = useChannel('system.load', CHANNEL_OPTIONS);
  const network = useChannel('system.network', CHANNEL_OPTIONS);
  const disk = useChannel('system.disk', CHANNEL_OPTIONS);
  const now = useNow(1000);
  const fresh = cpu.status.state === 'live';

  const cpuFields = fieldsOf(cpu);
  const memoryFields = fieldsOf(memory);
  const loadFields = fieldsOf(load);
  const networkFields = fieldsOf(network);
  const diskFields = fieldsOf(disk);

  const cpuSeries = useMemo(() => series(cpu, (fields) => fields.usage_percent as number | undefined), [cpu]);
  const memorySeries = useMemo(() => series(memory, (fields) => fields.used_percent as number | undefined), [memory]);
  const loadSeries = useMemo(() => series(load, (fields) => fields.load1 as number | undefined), [load]);
  const rxSeries = useMemo(() => series(network, (fields) => sumOf(fields.interfaces, 'rx_bytes_per_s')), [network]);
  const diskSeries = useMemo(() => series(disk, (fields) => sumOf(fields.devices, 'busy_percent')), [disk]);

  const usage = numberField(cpuFields, 'usage_percent');
  const cores = Array.isArray(cpuFields?.cores) ? (cpuFields.cores as unknown[]).filter((value): value is number => typeof value === 'number') : [];
  const newest = Math.max(cpu.latest?.time ?? 0, memory.latest?.time ?? 0);

  return (
    <div className="view">
      <p className="view-meta">
        <span data-testid="updated">{newest > 0 ? `updated ${formatAge(now - newest)}` : 'waiting for the first sample'}</span>
      </p>
      <div className="cards">
        <MetricCard title="CPU" fresh={fresh} testId="card-cpu" value={usage === undefined ? undefined : <AnimatedNumber value={usage} format={formatFixed(1)} testId="cpu-usage" />} unit="%">
          <Sparkline points={cpuSeries} range={[0, 100]} label="CPU usage, last two minutes" />
          {cpuFields !== null && (
            <dl className="stats">
              <div><dt>user</dt><dd className="tabular">{formatFixed(1)(numberField(cpuFields, 'user_percent') ?? NaN)}%</dd></div>
              <div><dt>system</dt><dd className="tabular">{formatFixed(1)(numberField(cpuFields, 'system_percent') ?? NaN)}%</dd></div>
              <div><dt>iowait</dt><dd className="tabular">{formatFixed(1)(numberField(cpuFields, 'iowait_percent') ?? NaN)}%</dd></div>
            </dl>
          )}
          <div className="cores">
            {cores.map((percent, index) => (
              <PercentageBar key={index} percent={percent} label={`core ${index}`} />
            ))}
          </div>
        </MetricCard>

        <MetricCard title="Memory" fresh={fresh} testId="card-memory" value={memoryFields === null ? undefined : <span className="tabular" data-testid="memory-used">{formatBytes(numberField(memoryFields, 'used_bytes') ?? NaN)}</span>}>
          <PercentageBar percent={numberField(memoryFields, 'used_percent') ?? NaN} label="used" />
          <Sparkline points={memorySeries} range={[0, 100]} label="memory used, last two minutes" />
          {memoryFields !== null && (
            <dl className="stats">
              <div><dt>total</dt><dd className="tabular">{formatBytes(numberField(memoryFields, 'total_bytes') ?? NaN)}</dd></div>
              <div><dt>available</dt><dd className="tabular">{formatBytes(numberField(memoryFields, 'available_bytes') ?? NaN)}</dd></div>
              <div><dt>swap used</dt><dd className="tabular">{formatBytes(numberField(memoryFields, 'swap_used_bytes') ?? NaN)}</dd></div>
            </dl>
          )}
        </MetricCard>

        <MetricCard title="Load" fresh={fresh} testId="card-load" value={loadFields === null ? undefined : <AnimatedNumber value={numberField(loadFields, 'load1') ?? NaN} format={formatFixed(2)} testId="load1" />}>
          <Sparkline points={loadSeries} label="1-minute load, last two minutes" />
          {loadFields !== null && (
            <dl className="stats">
              <div><dt>5 min</dt><dd className="tabular">{formatFixed(2)(numberField(loadFields, 'load5') ?? NaN)}</dd></div>
              <div><dt>15 min</dt><dd className="tabular">{formatFixed(2)(numberField(loadFields, 'load15') ?? NaN)}</dd></div>
              <div><dt>processes</dt><dd className="tabular">{formatCount(numberField(loadFields, 'processes') ?? NaN)}</dd></div>
            </dl>
          )}
        </MetricCard>

        <MetricCard title="Network" fresh={fresh} testId="card-network" value={networkFields === null ? undefined : <span className="tabular">{formatByteRate(sumOf(networkFields.interfaces, 'rx_bytes_per_s') ?? NaN)}</span>} unit="in">
          <Sparkline points={rxSeries} label="network bytes received per second, last two minutes" />
          <p className="card-line tabular">out {formatByteRate(sumOf(networkFields?.interfaces, 'tx_bytes_per_s') ?? NaN)}</p>
        </MetricCard>

        <MetricCard title="Disk" fresh={fresh} testId="card-disk" value={diskFields === null ? undefined : <span className="tabular">{formatByteRate(sumOf(diskFields.devices, 'read_bytes_per_s') ?? NaN)}</span>} unit="read">
          <Sparkline points={diskSeries} range={[0, 100]} label="disk busy percent, last two minutes" />
          <p className="card-line tabular">write {formatByteRate(sumOf(diskFields?.devices, 'write_bytes_per_s') ?? NaN)}</p>
        </MetricCard>

        <GatewayCard />
      </div>
    </div>
  );
}
