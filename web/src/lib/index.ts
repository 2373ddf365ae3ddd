// The public API of the livegate web library; everything not exported here is internal.

export { backoffCeilingMs, backoffDelayMs, type BackoffOptions } from './core/backoff';
export { CircuitBreaker, type BreakerState } from './core/breaker';
export { ChannelStore, type ChannelNotice, type ChannelState, type Envelope } from './core/channels';
export type { ClientOptions, LivegateClient, TransportName } from './core/client';
export { Connection, browserPlatform, type Platform } from './core/connection';
export { CHANNEL_DEFAULTS, CONNECTION_DEFAULTS, type ChannelOptions, type ConnectionOptions } from './core/defaults';
export { LivegateError, RejectedError, RetryLimitError } from './core/errors';
export { destroySharedClients, sharedClient } from './core/registry';
export { SSEClient, type SSEClientOptions } from './core/sse';
export { SSEParser } from './core/sse-parser';
export type { ConnectionState, LivegateStatus } from './core/status';
export { SUBPROTOCOL, WebSocketClient, type WebSocketClientOptions } from './core/ws';

export {
  LivegateProvider,
  useChannel,
  useConnectionStatus,
  useLivegateClient,
  useRealtimeData,
  useSSE,
  useWebSocket,
  type ChannelView,
  type RealtimeOptions,
  type UseChannelOptions,
} from './react/hooks';

export { AnimatedNumber } from './components/AnimatedNumber';
export { CandleChart } from './components/CandleChart';
export { buildCandles, type Candle, type TimedValue } from './components/charts';
export { ConnectionStatus, describeStatus } from './components/ConnectionStatus';
export { FlashingValue } from './components/FlashingValue';
export { MetricCard } from './components/MetricCard';
export { PercentageBar } from './components/PercentageBar';
export { PriceChart } from './components/PriceChart';
export { Sparkline } from './components/Sparkline';
