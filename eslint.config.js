// Lint, including the import rules between layers (see README "Architecture"):
//   shared (plain TS) <- core (Node, no Electron) <- main, cli;  preload: shared + electron;
//   renderer: shared only. Each native module is imported by exactly one adapter file.
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

const electronOnlyInGlue = { name: 'electron', message: 'Only src/main and src/preload may import electron.' };
const frontEnds = { group: ['**/renderer/**', '**/cli/**', '**/main/**', '**/preload/**'], message: 'core must not depend on a front end.' };

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
  layer(['src/core/**/*.ts'], {
    ignores: Object.values(nativeAdapters),
    paths: [electronOnlyInGlue, ...nativeOnlyInAdapter],
    patterns: [frontEnds, { group: ['react', 'react-dom', 'zustand'], message: 'core has no UI.' }],
  }),
  layer(Object.values(nativeAdapters), {
    paths: [electronOnlyInGlue],
    patterns: [frontEnds],
  }),
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
