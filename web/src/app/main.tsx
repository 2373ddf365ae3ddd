// Dashboard entry point. The page uses Server-Sent Events, or WebSocket with ?transport=ws.

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

import { LivegateProvider, sharedClient, type TransportName } from '../lib';
import { App } from './App';
import './styles.css';

function chooseTransport(): TransportName {
  const requested = new URLSearchParams(window.location.search).get('transport');
  if (requested === null || requested === 'sse')
    return 'sse';
  if (requested === 'ws')
    return 'ws';
  console.warn(`livegate: unknown transport "${requested}" in the page address, expected sse or ws, so the page uses sse`);
  return 'sse';
}

// A view may follow only quiet channels (a market at night), so silence means trouble
// only once a heartbeat is overdue: livegate's SSE heartbeat comes every 15 s and the
// WebSocket client pings every 10 s. The retry limit is off because a monitoring wall
// should never give up.
const CONNECTION = { stallTimeoutMs: 20000, stallReconnectMs: 15000, maxRetries: Infinity, backoffCapMs: 15000 };

const transport = chooseTransport();
const client = sharedClient(transport, { connection: CONNECTION });
const root = document.getElementById('root');
if (root === null)
  throw new Error('index.html has no #root element');

createRoot(root).render(
  <StrictMode>
    <LivegateProvider transport={transport} clients={{ [transport]: client }}>
      <App transport={transport} />
    </LivegateProvider>
  </StrictMode>,
);
