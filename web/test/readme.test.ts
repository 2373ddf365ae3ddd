// @vitest-environment node

import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

const README = new URL('../../README.md', import.meta.url);
const EXAMPLE = new URL('../src/examples/readme-hooks.tsx', import.meta.url);

describe('README hooks example', () => {
  it('equals src/examples/readme-hooks.tsx', () => {
    const blocks = [...readFileSync(README, 'utf8').matchAll(/^```tsx\n([\s\S]*?)^```$/gm)].map((match) => match[1]);
    expect(blocks).toHaveLength(1);

    // The README imports from './lib' as a file beside web/src/lib would.
    const readme = (blocks[0] ?? '').replace("from './lib';", "from '../lib';");
    const example = readFileSync(EXAMPLE, 'utf8').replace(/^(\/\/.*\n)+\n/, '');
    expect(example).toBe(readme);
  });
});
