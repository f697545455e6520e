// Static review of the built Electron app (out/) with Doyensec's Electronegativity: it must find
// nothing. Its CLI exits 0 even with findings, so this parses its results. Two checks are off:
// - AvailableSecurityFixesGlobalCheck needs the internet (this project stays offline);
// - PRELOAD_JS_CHECK only asks for a human review of any preload, and the build drops the source
//   comments its inline waivers need. Reviewed: src/preload/index.ts exposes one object built from
//   the contract (createApi), no Node API and no Electron object; tests/e2e run that very bundle.
// Its translation download is cut off too.
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const require = createRequire(join(root, 'node_modules', '@doyensec', 'electronegativity', 'package.json'));
require.cache[require.resolve('got')] = { exports: () => Promise.reject(new Error('offline')) } as unknown as NodeJS.Module;

interface Issue {
  id: string;
  file: string;
  location: { line: number; column: number };
  severity: { name?: string; value: number };
  description: string;
}

const run = require('./dist/runner.js') as (options: Record<string, unknown>) => Promise<{ issues: Issue[]; errors: { file: string; message: string; tolerable: boolean }[] }>;
const electronVersion = (require(join(root, 'node_modules', 'electron', 'package.json')) as { version: string }).version;

const result = await run({
  input: join(root, 'out'),
  excludeFromScan: ['AvailableSecurityFixesGlobalCheck', 'PreloadJSCheck'],
  electronVersionOverride: electronVersion,
  isRelative: true,
});
for (const e of result.errors.filter((e) => !e.tolerable)) console.error(`electronegativity could not parse ${e.file}: ${e.message}`);
for (const i of result.issues) console.error(`${i.id} ${i.file}:${i.location.line}:${i.location.column} — ${i.description}`);
if (result.issues.length > 0 || result.errors.some((e) => !e.tolerable)) process.exit(1);
console.log(`electronegativity: no findings in out/ (Electron ${electronVersion})`);
