import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'electron-vite';

// main: ESM for Electron's main process, native modules left as runtime imports.
// preload: one self-contained CommonJS file, as sandboxed preloads require (only `electron` is external).
// renderer: the React app, loaded from the app:// protocol with relative asset paths.
const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      // The HSM worker thread is its own entry: out/main/hsm-worker.js, beside the bundle.
      rollupOptions: { input: { index: resolve(root, 'src/main/index.ts'), 'hsm-worker': resolve(root, 'src/core/hsm/hsm-worker.ts') } },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(root, 'src/preload/index.ts') },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src/renderer',
    base: './',
    build: {
      outDir: 'out/renderer',
      rollupOptions: { input: { index: resolve(root, 'src/renderer/index.html') } },
    },
  },
});
