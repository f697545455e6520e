// The layers inside core are lint rules: an import from a layer to one at or above it (types
// included) fails `npm run lint`. Planted back-imports prove each rule can fail; the real tree passing
// is `npm run lint` itself.
import { ESLint } from 'eslint';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- the lint config is plain JavaScript, without types
import { coreLayers } from '../../eslint.config.js';

const root = resolve(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: root });

/** Lints `code` as if it were a file at `path` (nothing is written). */
async function importErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: resolve(root, path) });
  return (result?.messages ?? []).filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

// A root file is linted under its own name (lintText reads nothing from disk).
const fileIn = (name: string): string => (['errors', 'secrets', 'terminal'].includes(name) ? `src/core/${name}.ts` : `src/core/${name}/planted.ts`);
const importOf = (from: string, to: string): string => {
  const up = from.includes('/planted.ts') ? '../' : './';
  return ['errors', 'secrets', 'terminal'].includes(to) ? `${up}${to}` : `${up}${to}/anything`;
};

describe('the layers inside core', () => {
  const layers = coreLayers as string[][];
  const pairs: [string, string][] = [];
  layers.forEach((members, level) => {
    for (const from of members) for (const to of layers.slice(level).flat()) if (to !== from && to !== 'config') pairs.push([from, to]);
  });

  it.each(pairs)('refuses an import from %s up to %s (a type import too)', async (from, to) => {
    const path = fileIn(from);
    const errors = await importErrors(path, `import type { X } from '${importOf(path, to)}';\nexport type Y = X;\n`);
    expect(errors.join('\n'), `${from} importing ${to} passed the lint`).toMatch(/core layers/);
  });

  it('allows an import down the layers (ceremony → quorum, partition → hsm)', async () => {
    expect(await importErrors('src/core/ceremony/planted.ts', "import type { X } from '../quorum/anything';\nexport type Y = X;\n")).toEqual([]);
    expect(await importErrors('src/core/partition/planted.ts', "import type { X } from '../hsm/anything';\nexport type Y = X;\n")).toEqual([]);
  });

  it('reaches the deepest files of a folder too', async () => {
    const errors = await importErrors('src/core/store/migrations/planted.ts', "import type { X } from '../../ceremony/run';\nexport type Y = X;\n");
    expect(errors.join('\n')).toMatch(/core layers/);
  });
});
