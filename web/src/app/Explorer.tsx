// Channel explorer: follows any channel and shows its raw events and notices.

import { useEffect, useMemo, useState, type FormEvent } from 'react';

import {
  LivegateProvider,
  SSEClient,
  WebSocketClient,
  describeStatus,
  useChannel,
  useConnectionStatus,
  useLivegateClient,
  type LivegateClient,
  type LivegateStatus,
  type TransportName,
} from '../lib';
import { useNow } from './useNow';

const SHOWN_EVENTS = 100;

// livegate's channel name rule: letters, digits and . _ : - @ /, at most 200 bytes.
const CHANNEL_NAME = /^[A-Za-z0-9._:@/-]{1,200}$/;

/** Returns why `name` is not a valid livegate channel name, or null when it is valid. */
export function channelNameError(name: string): string | null {
  if (name === '')
    return 'enter a channel name';
  if (name.length > 200)
    return `the name is ${name.length} characters long, the maximum is 200`;
  if (!CHANNEL_NAME.test(name))
    return 'invalid channel name: use letters, digits and . _ : - @ /';
  return null;
}

/**
 * Creates the explorer's own client of the page's transport, destroyed on unmount.
 * A channel that livegate rejects (an unknown rule, no subscribe permission) then
 * fails this connection only, and not the one the other views share.
 */
function useExplorerClient(transport: TransportName): LivegateClient | null {
  const [client, setClient] = useState<LivegateClient | null>(null);
  useEffect(() => {
    const created = transport === 'ws' ? new WebSocketClient() : new SSEClient();
    setClient(created);
    return () => {
      created.destroy();
      setClient(null);
    };
  }, [transport]);
  return client;
}

export function Explorer() {
  const transport = useLivegateClient().transport;
  const client = useExplorerClient(transport);
  const clients = useMemo(() => (client === null ? {} : { [transport]: client }), [client, transport]);
  const [draft, setDraft] = useState('system.load');
  const [channel, setChannel] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const name = draft.trim();
    const problem = channelNameError(name);
    setError(problem);
    if (problem === null)
      setChannel(name);
  };

  return (
    <div className="view explorer">
      <form onSubmit={submit} className="explorer-form">
        <label htmlFor="explorer-channel">channel</label>
        <input
          id="explorer-channel"
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
          spellCheck={false}
          autoComplete="off"
          aria-invalid={error !== null}
          aria-describedby={error !== null ? 'explorer-error' : undefined}
        />
        <button type="submit">follow</button>
        {channel !== null && <button type="button" onClick={() => setChannel(null)}>stop</button>}
      </form>
      {error !== null && <p id="explorer-error" className="explorer-error" role="alert" data-testid="explorer-error">✕ {error}</p>}
      {channel !== null && client !== null && (
        <LivegateProvider transport={transport} clients={clients}>
          <ChannelEvents channel={channel} client={client} />
        </LivegateProvider>
      )}
    </div>
  );
}

function ChannelEvents({ channel, client }: { channel: string; client: LivegateClient }) {
  const view = useChannel(channel, { historyLength: SHOWN_EVENTS });
  const status = useConnectionStatus(client);

  return (
    <>
      <p className="view-meta explorer-connection" data-testid="explorer-connection" data-state={status.state}>
        <ExplorerStatus status={status} />
      </p>
      <p className="view-meta tabular" data-testid="explorer-summary">
        {view.subscribed ? 'subscribed' : 'not subscribed'} · {view.history.length} events kept · {view.duplicates} repeats dropped · {view.resets} resets · {view.gaps} gaps
        {view.lastNotice !== null && ` · last notice: ${view.lastNotice.kind} (${view.lastNotice.detail})`}
      </p>
      <ol className="events" data-testid="explorer-events">
        {[...view.history].reverse().map((event) => (
          <li key={event.id}>
            <code className="event-id">{event.id}</code>
            {event.key !== null && <span className="event-key">{event.key}</span>}
            {event.event !== undefined && <span className="event-type">{event.event}</span>}
            <pre>{JSON.stringify(event.data)}</pre>
          </li>
        ))}
      </ol>
    </>
  );
}

// The explorer connection's state with the server's reason, which the header's badge
// only shows as a tooltip: a rejected channel name or permission is explained here.
function ExplorerStatus({ status }: { status: LivegateStatus }) {
  const now = useNow(1000);
  const details = [describeStatus(status, now)];
  if (status.state === 'reconnecting' && status.reason !== 'connecting')
    details.unshift(status.reason);
  const detail = details.filter((text) => text !== '').join(' · ');
  return (
    <>
      explorer connection: <span className="connection-state">{status.state}</span>
      {detail !== '' && <span data-testid="explorer-connection-detail"> · {detail}</span>}
    </>
  );
}
