// The `tessera` command runs built JavaScript: bin/tessera.js runs out/cli/main.js, says what to do
// when there is no build (never compiles TypeScript as a fallback), and tsx is a development tool
// only, so `npm ci --omit=dev` gives a CLI that starts like a tool.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

describe('the tessera launcher', () => {
  it('without a build, says to run `npm run build` and exits 1', () => {
    const copy = mkdtempSync(join(tmpdir(), 'tessera-nobuild-'));
    try {
      mkdirSync(join(copy, 'bin'));
      copyFileSync(join(root, 'bin', 'tessera.js'), join(copy, 'bin', 'tessera.js'));
      const result = spawnSync(process.execPath, [join(copy, 'bin', 'tessera.js'), '--help'], { encoding: 'utf8' });
      expect(result.stderr).toContain('Run `npm run build`');
      expect(result.stderr).toContain(join(copy, 'out', 'cli', 'main.js'));
      expect(result.status).toBe(1);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('does not need tsx at run time: tsx is a development dependency in package.json and the lock', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; dependencies?: Record<string, string> }> };
    expect(Object.keys(manifest.dependencies)).not.toContain('tsx');
    expect(Object.keys(manifest.devDependencies)).toContain('tsx');
    expect(Object.keys(lock.packages['']?.dependencies ?? {})).not.toContain('tsx');
    expect(lock.packages['node_modules/tsx']?.dev).toBe(true);
    expect(readFileSync(join(root, 'bin', 'tessera.js'), 'utf8')).not.toMatch(/from 'tsx|import\('tsx/);
  });
});
