// Removes the previous build from dist/ but keeps its tracked .gitkeep, which lets a
// fresh clone's default config (server.web_root: ../web/dist) start before any build.
import { readdir, rm } from 'node:fs/promises';

const dist = new URL('../dist/', import.meta.url);
const entries = await readdir(dist).catch(() => []);
for (const name of entries) {
  if (name !== '.gitkeep')
    await rm(new URL(name, dist), { recursive: true, force: true });
}
