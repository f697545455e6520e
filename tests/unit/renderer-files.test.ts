import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, rendererFile } from '../../src/main/renderer-files';

const dir = mkdtempSync(join(tmpdir(), 'tessera-renderer-'));
mkdirSync(join(dir, 'renderer', 'assets'), { recursive: true });
writeFileSync(join(dir, 'renderer', 'index.html'), '<html></html>');
writeFileSync(join(dir, 'renderer', 'assets', 'app.js'), 'console.log(1)');
writeFileSync(join(dir, 'secret.txt'), 'outside');
const root = join(dir, 'renderer');

describe('serving the renderer', () => {
  it('serves our files with their type and the CSP', () => {
    const index = rendererFile(root, '/');
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toMatch(/text\/html/);
    expect(index.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(rendererFile(root, '/assets/app.js').headers['content-type']).toMatch(/javascript/);
  });

  it('never serves a file outside the renderer folder', () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/../../secret.txt', '/..%2fsecret.txt', '/%']) {
      expect(rendererFile(root, path).status, path).not.toBe(200);
    }
    expect(rendererFile(root, '/missing.js').status).toBe(404);
    expect(rendererFile(root, '/assets').status).toBe(404);
  });

  it('keeps the CSP strict: no inline script, no eval, no network', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("connect-src 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-(inline|eval)/);
  });
});
