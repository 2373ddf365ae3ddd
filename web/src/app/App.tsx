// The dashboard shell: header with the connection status and the view tabs.

import { useEffect, useState } from 'react';

import { ConnectionStatus, useLivegateClient, useConnectionStatus, type TransportName } from '../lib';
import { Explorer } from './Explorer';
import { Markets } from './Markets';
import { Monitoring } from './Monitoring';

const VIEWS = {
  monitoring: { title: 'Monitoring', View: Monitoring },
  markets: { title: 'Markets', View: Markets },
  explorer: { title: 'Explorer', View: Explorer },
} as const;

type ViewName = keyof typeof VIEWS;

function viewFromHash(): ViewName {
  const name = window.location.hash.replace(/^#\/?/, '');
  return Object.hasOwn(VIEWS, name) ? (name as ViewName) : 'monitoring';
}

const TRANSPORT_LABELS: Record<TransportName, string> = { sse: 'SSE', ws: 'WebSocket' };

export function App({ transport }: { transport: TransportName }) {
  const [view, setView] = useState<ViewName>(viewFromHash);
  const client = useLivegateClient(transport);
  const status = useConnectionStatus(client);

  useEffect(() => {
    const onHash = () => setView(viewFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const { View } = VIEWS[view];
  return (
    <div className="app" data-connection={status.state}>
      <header className="topbar">
        <h1 className="brand">livegate</h1>
        <nav aria-label="views">
          {(Object.keys(VIEWS) as ViewName[]).map((name) => (
            <a key={name} href={`#/${name}`} aria-current={name === view ? 'page' : undefined}>{VIEWS[name].title}</a>
          ))}
        </nav>
        <ConnectionStatus status={status} label={TRANSPORT_LABELS[transport]} onRetry={() => client.connection.reconnect()} />
      </header>
      <main>
        <View />
      </main>
    </div>
  );
}
