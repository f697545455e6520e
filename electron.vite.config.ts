import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';
import { moduleProbeBuild } from './scripts/module-probe-build';
import { META_CONTENT_SECURITY_POLICY } from './src/main/renderer-files';

// main: ESM for Electron's main process, native modules left as runtime imports.
// preload: one self-contained CommonJS file, as sandboxed preloads require (only `electron` is external).
// renderer: the React app, loaded from the app:// protocol with relative asset paths.
const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The page carries the CSP itself too (defence in depth), from the one definition in src/main, and
 * narrower: only the exact bundle built here may run (a sha384 hash with a matching integrity
 * attribute), not any script the origin might serve.
 */
const cspMeta: Plugin = {
  name: 'tessera-csp-meta',
  transformIndexHtml: {
    order: 'post',
    handler(html, context) {
      const entry = Object.values(context.bundle ?? {}).find((c) => c.type === 'chunk' && c.isEntry);
      if (!entry || entry.type !== 'chunk') throw new Error('tessera-csp-meta: no entry chunk to pin');
      const integrity = `sha384-${createHash('sha384').update(entry.code).digest('base64')}`;
      const policy = META_CONTENT_SECURITY_POLICY.replace("script-src 'self'", `script-src '${integrity}'`);
      return html
        .replace(`src="./${entry.fileName}"`, `src="./${entry.fileName}" integrity="${integrity}"`)
        .replace('<head>', `<head>\n    <meta http-equiv="Content-Security-Policy" content="${policy}" />`);
    },
  },
};

export default defineConfig({
  main: {
    plugins: [moduleProbeBuild('out/main')],
    build: {
      outDir: 'out/main',
      // The HSM worker thread is an entry of its own, out/main/hsm-worker.js, and the module probe
      // (a child process) is built beside the bundle as CommonJS, out/main/module-probe.cjs
      // (scripts/module-probe-build.ts).
      rollupOptions: {
        input: {
          index: resolve(root, 'src/main/index.ts'),
          'hsm-worker': resolve(root, 'src/core/hsm/hsm-worker.ts'),
        },
      },
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
    plugins: [cspMeta],
    build: {
      outDir: 'out/renderer',
      rollupOptions: { input: { index: resolve(root, 'src/renderer/index.html') } },
    },
  },
});
