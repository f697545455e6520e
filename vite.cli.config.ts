import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { moduleProbeBuild } from './scripts/module-probe-build.js';

// The `tessera` command as built JavaScript for plain Node (bin/tessera.js runs out/cli/main.js):
// no TypeScript is compiled when an officer types a command. Packages stay runtime imports from
// node_modules (an SSR build externalises them), so the native modules (better-sqlite3, keytar,
// pkcs11js, pcsclite) load as they do for the app. The HSM worker thread is an entry of its own,
// out/cli/hsm-worker.js, and the module probe (a child process) is built beside it as CommonJS,
// out/cli/module-probe.cjs (scripts/module-probe-build.ts), because hsm-worker-client.ts and
// module-probe.ts find them beside the file that imports them; chunks therefore go to out/cli
// itself, not to a subfolder.
const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  plugins: [moduleProbeBuild('out/cli')],
  // Pure-JavaScript packages are bundled in: Node's ESM loader then resolves and compiles one file
  // instead of hundreds (zod alone is ~100 files). yaml stays external: bundled, its CommonJS
  // modules would all run at start, for the few commands that read a ceremony script.
  ssr: { noExternal: ['commander', 'zod', 'shamir-secret-sharing'] },
  build: {
    ssr: true,
    target: 'node20',
    outDir: 'out/cli',
    emptyOutDir: true,
    // Minified: V8 parses every byte of each chunk a command loads, and a short command's time is
    // mostly that (npm run bench:cli); source maps beside them keep stack traces readable
    // (node --enable-source-maps).
    minify: true,
    sourcemap: true,
    rollupOptions: {
      input: {
        main: resolve(root, 'src/cli/main.ts'),
        'hsm-worker': resolve(root, 'src/core/hsm/hsm-worker.ts'),
      },
      output: {
        format: 'es',
        entryFileNames: '[name].js',
        chunkFileNames: '[name]-[hash].js',
        // The PKCS#11 adapter (and with it the pkcs11js addon) in a chunk of its own: the command's first
        // steps (options, settings, the module's checks and probe) then load no native module.
        manualChunks: (id: string) => (id.includes('/src/core/hsm/pkcs11-adapter') ? 'pkcs11-adapter' : undefined),
      },
    },
  },
});
