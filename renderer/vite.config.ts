import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Vite injects import.meta.dirname (this file's folder) when it loads the config; no Node imports here so
// the renderer tree stays free of Node built-ins (test/arch/boundaries.test.ts).
const root = import.meta.dirname;

export default defineConfig({
  root,
  base: './',
  plugins: [svelte()],
  build: {
    outDir: `${root}/../dist/renderer`,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // no inline scripts: the CSP allows script-src 'self' only
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1200,
  },
  server: { strictPort: false },
});
