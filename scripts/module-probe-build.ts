// The module probe's build (src/core/hsm/module-probe-child.ts), for the app and the CLI alike: one
// CommonJS file, module-probe.cjs, beside the bundle that starts it. The probe is a Node process of
// its own that every command on a module waits for, and plain Node starts a CommonJS file in about
// the time of `node -e 0`, where the same code as ES modules costs the ESM loader's start on top
// (measured: `npm run bench:cli`, "the module probe alone"). pkcs11js stays a runtime require, as
// for the bundles.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Plugin, build } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * A Vite plugin that, once the bundle it belongs to is written, builds the probe into `outDir` as
 * `module-probe.cjs` (the folder is not emptied: the bundle is already there).
 * @param outDir the bundle's output folder, relative to the project (e.g. "out/cli")
 */
export function moduleProbeBuild(outDir: string): Plugin {
  return {
    name: 'tessera-module-probe-cjs',
    apply: 'build',
    async closeBundle() {
      await build({
        configFile: false,
        root,
        logLevel: 'warn',
        build: {
          ssr: true,
          target: 'node20',
          outDir: resolve(root, outDir),
          emptyOutDir: false,
          minify: false,
          sourcemap: false,
          rollupOptions: {
            input: { 'module-probe': resolve(root, 'src/core/hsm/module-probe-child.ts') },
            output: { format: 'cjs', entryFileNames: '[name].cjs', codeSplitting: false },
          },
        },
      });
    },
  };
}
