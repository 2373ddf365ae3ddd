// Builds the dashboard into dist/ (served by livegate as server.web_root) and runs
// the Vitest suite in happy-dom.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [react()],
  // Relative asset URLs, so the dashboard also works behind a proxy under a path prefix.
  base: './',
  build: {
    outDir: 'dist',
    // dist/ holds a tracked placeholder (.gitkeep) so that a fresh clone's web_root
    // exists; scripts/clean-dist.mjs removes the previous build's files instead.
    emptyOutDir: false,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    // `npm run dev`: the page talks to a livegate on its default public port.
    proxy: {
      '/sse': 'http://127.0.0.1:8080',
      '/ws': { target: 'ws://127.0.0.1:8080', ws: true },
    },
  },
  test: {
    environment: 'happy-dom',
    include: ['test/**/*.test.{ts,tsx}'],
    globals: true,
  },
});
