// The hooks example of the README ("Using the hooks in another React application"),
// kept here so that the build type-checks it; test/readme.test.ts keeps the copies equal.

import { ConnectionStatus, FlashingValue, LivegateProvider, useChannel, useRealtimeData, useWebSocket } from '../lib';

function Price({ symbol }: { symbol: string }) {
  const { latest } = useChannel(`prices.${symbol}`);
  const price = (latest?.data as { price?: number } | undefined)?.price;
  return price === undefined ? <span>–</span> : <FlashingValue value={price} format={(p) => p.toFixed(2)} />;
}

type Order = { id: string; status: string };

function Orders() {
  // Loaded once from your API, then kept current by the "orders" channel.
  const { data, error } = useRealtimeData<Order[]>('/api/orders', (url) => fetch(url).then((r) => r.json()), {
    channel: 'orders',
    apply: (orders, event) => [...orders.filter((o) => o.id !== event.key), event.data as Order],
  });
  if (error) return <p>Orders could not be loaded; the last known list stays below.</p>;
  return <ul>{data?.map((order) => <li key={order.id}>{order.id}: {order.status}</li>)}</ul>;
}

function Header() {
  // The status of the transport that the provider below chooses for the hooks.
  const { status, reconnect } = useWebSocket();
  return <ConnectionStatus status={status} label="WebSocket" onRetry={reconnect} />;
}

export function App() {
  // Without a provider the hooks use SSE at "sse" relative to the page.
  return (
    <LivegateProvider transport="ws">
      <Header /><Price symbol="AAPL" /><Orders />
    </LivegateProvider>
  );
}
