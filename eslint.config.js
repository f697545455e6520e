// Lint, including the import rules between layers (see README "Architecture"):
//   shared (plain TS) <- core (Node, no Electron) <- main, cli;  preload: shared + electron;
//   renderer: shared only. Each native module is imported by exactly one adapter file.
//   Inside core the folders are layers too (coreLayers below): each imports only the ones under it.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'child_process', 'crypto', 'net', 'http', 'https', 'url', 'util', 'events', 'stream', 'worker_threads'];

const nativeAdapters = {
  pkcs11js: 'src/core/hsm/pkcs11-adapter.ts',
  pcsclite: 'src/core/cards/pcsc-adapter.ts',
  'better-sqlite3': 'src/core/store/database.ts',
  keytar: 'src/core/keychain/keytar-keychain.ts',
};

const nativeOnlyInAdapter = Object.entries(nativeAdapters).map(([name, adapter]) => ({
  name,
  message: `Import ${name} only in its adapter, ${adapter}.`,
}));

/** One no-restricted-imports rule per layer; each file matches exactly one layer. */
function layer(files, { paths = [], patterns = [], ignores = [] }) {
  return {
    files,
    ignores,
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths, patterns }],
    },
  };
}

/**
 * The layers inside src/core, bottom first. A folder (or root file) may import only what stands in
 * an earlier layer, or in its own folder; type imports count too. Folders in one layer are siblings
 * that do not import each other.
 */
export const coreLayers = [
  ['errors', 'secrets', 'config', 'media'],
  ['hsm', 'cards', 'store', 'keychain'],
  ['audit'],
  ['partition'],
  ['quorum'],
  ['policy'],
  ['keys', 'backup'],
  ['ceremony'],
  ['record'],
  ['terminal'],
];

const electronOnlyInGlue = { name: 'electron', message: 'Only src/main and src/preload may import electron.' };
const frontEnds = { group: ['**/renderer/**', '**/cli/**', '**/main/**', '**/preload/**'], message: 'core must not depend on a front end.' };

/** The files of one core layer member: a folder, or a file at core's root (errors.ts, terminal.ts). */
function coreFiles(name) {
  return [`src/core/${name}/**/*.ts`, `src/core/${name}.ts`];
}

/** One lint config per core folder: the process rules, plus no import of a layer at or above its own. */
function coreLayerConfigs() {
  const configs = [];
  coreLayers.forEach((members, level) => {
    for (const name of members) {
      const above = coreLayers.slice(level).flat().filter((other) => other !== name);
      const upward = {
        regex: `^(\\.\\.?/)+(\\.\\./)*(${above.join('|')})(/|$)`,
        message: `core layers: ${name} may import only ${coreLayers.slice(0, level).flat().join(', ') || 'nothing in core'} (see coreLayers in eslint.config.js).`,
      };
      const adapters = Object.values(nativeAdapters).filter((file) => file.startsWith(`src/core/${name}/`));
      const patterns = [frontEnds, { group: ['react', 'react-dom', 'zustand'], message: 'core has no UI.' }, ...(above.length > 0 ? [upward] : [])];
      configs.push(layer(coreFiles(name), { ignores: adapters, paths: [electronOnlyInGlue, ...nativeOnlyInAdapter], patterns }));
      for (const adapter of adapters) configs.push(layer([adapter], { paths: [electronOnlyInGlue], patterns }));
    }
  });
  return configs;
}

export default tseslint.config(
  { ignores: ['out/', 'node_modules/', '.lab/', 'test-results/', 'playwright-report/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='ipcMain']", message: 'Register IPC only in src/main/ipc.ts, from the contract.' },
        { selector: "MemberExpression[object.name='ipcRenderer']", message: 'Use ipcRenderer only in src/preload/index.ts.' },
      ],
    },
  },
  layer(['src/shared/**/*.ts'], {
    paths: [electronOnlyInGlue, ...nativeOnlyInAdapter],
    patterns: [{ group: nodeBuiltins, message: 'shared is plain TypeScript: no Node.' }, { group: ['react', 'react-dom', 'zustand', '**/core/**', '**/main/**', '**/renderer/**', '**/cli/**', '**/preload/**'], message: 'shared depends on nothing but zod.' }],
  }),
  ...coreLayerConfigs(),
  layer(['src/cli/**/*.ts'], {
    paths: [electronOnlyInGlue, ...nativeOnlyInAdapter],
    patterns: [{ group: ['**/main/**', '**/renderer/**', '**/preload/**', 'react', 'react-dom', 'zustand'], message: 'the CLI uses core, not another front end.' }],
  }),
  layer(['src/main/**/*.ts'], {
    paths: nativeOnlyInAdapter,
    patterns: [{ group: ['**/renderer/**', '**/cli/**', 'react', 'react-dom', 'zustand'], message: 'main wires core to the window; it does not import front ends.' }],
  }),
  layer(['src/preload/**/*.ts'], {
    paths: nativeOnlyInAdapter,
    patterns: [{ group: [...nodeBuiltins, '**/core/**', '**/main/**', '**/renderer/**', '**/cli/**'], message: 'the preload imports electron and shared only.' }],
  }),
  layer(['src/renderer/**/*.ts', 'src/renderer/**/*.tsx'], {
    paths: [electronOnlyInGlue, ...nativeOnlyInAdapter],
    patterns: [{ group: [...nodeBuiltins, '**/core/**', '**/main/**', '**/cli/**', '**/preload/**'], message: 'the renderer talks to main only through window.tessera (the contract).' }],
  }),
  { files: ['src/renderer/**/*.{ts,tsx}'], languageOptions: { globals: { ...globals.browser } } },
  { files: ['src/main/ipc.ts'], rules: { 'no-restricted-syntax': 'off' } },
  { files: ['src/preload/index.ts'], rules: { 'no-restricted-syntax': 'off' } },
  // Tests and scripts check the app from outside: no electron, and native modules only where the
  // lab's own tools need the raw binding (tests/lab/raw-pkcs11.ts: seeding, the benchmark baseline).
  layer(['tests/**/*.ts', 'scripts/**/*.ts'], {
    ignores: ['tests/lab/raw-pkcs11.ts'],
    paths: [electronOnlyInGlue, ...nativeOnlyInAdapter],
  }),
);
