import { readFileSync } from 'node:fs';
// happy-dom replaces the global URL with one that rejects file: URLs.
import { URL as NodeURL } from 'node:url';

import { describe, expect, it } from 'vitest';

import { CONNECTION_DEFAULTS } from '../src/lib/core/defaults';

// Rows of the README's connection options table: | `name` | default | meaning |
function documentedDefaults(): Record<string, number> {
  const readme = readFileSync(new NodeURL('../../README.md', import.meta.url), 'utf8');
  const rows = [...readme.matchAll(/^\| `(\w+)` \| (\d+) \|/gm)];
  return Object.fromEntries(rows.filter(([, name]) => name !== undefined && name in CONNECTION_DEFAULTS).map(([, name, value]) => [name, Number(value)]));
}

describe('connection defaults', () => {
  it('readme table matches the object', () => {
    expect(documentedDefaults()).toEqual({ ...CONNECTION_DEFAULTS });
  });
});
