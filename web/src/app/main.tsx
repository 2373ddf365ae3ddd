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

// Host metrics arrive every second, so five silent seconds already mean trouble; the
// retry limit is off because a monitoring wall should never give up.
const CONNECTION = { stallTimeoutMs: 5000, stallReconnectMs: 10000, maxRetries: Infinity, backoffCapMs: 15000 };

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
