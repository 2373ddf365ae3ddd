// Channel explorer: follows any channel and shows its raw events and notices.

import { useState, type FormEvent } from 'react';

import { useChannel } from '../lib';

const SHOWN_EVENTS = 100;

export function Explorer() {
  const [draft, setDraft] = useState('system.load');
  const [channel, setChannel] = useState<string | null>(null);
  const view = useChannel(channel, { historyLength: SHOWN_EVENTS });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const name = draft.trim();
    setChannel(name === '' ? null : name);
  };

  return (
    <div className="view explorer">
      <form onSubmit={submit} className="explorer-form">
        <label htmlFor="explorer-channel">channel</label>
        <input id="explorer-channel" value={draft} onChange={(event) => setDraft(event.target.value)} spellCheck={false} autoComplete="off" />
        <button type="submit">follow</button>
        {channel !== null && <button type="button" onClick={() => setChannel(null)}>stop</button>}
      </form>
      {channel !== null && (
        <>
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
      )}
    </div>
  );
}
