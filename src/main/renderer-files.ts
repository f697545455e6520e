// Serving the built renderer: the one Content-Security-Policy, MIME types, and path resolution
// that cannot escape the renderer folder. Used by the app:// protocol and the Chromium host.
import { readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';

/** No network, no inline script, no eval, no plugins, no framing: only our own files. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The same policy for the page's <meta> tag (written at build time), where frame-ancestors does not apply. */
export const META_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.split('; ')
  .filter((directive) => !directive.startsWith('frame-ancestors'))
  .join('; ');

const mimeTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

export interface RendererFile {
  status: number;
  body: Buffer;
  headers: Record<string, string>;
}

export function rendererFile(rendererDir: string, urlPath: string): RendererFile {
  const headers = { 'content-security-policy': CONTENT_SECURITY_POLICY, 'x-content-type-options': 'nosniff' };
  let relative: string;
  try {
    relative = decodeURIComponent(urlPath === '/' ? '/index.html' : urlPath);
  } catch {
    return { status: 400, body: Buffer.alloc(0), headers };
  }
  const file = normalize(join(rendererDir, relative));
  const inside = file.startsWith(normalize(rendererDir) + sep);
  const type = mimeTypes[extname(file)];
  if (!inside || !type) return { status: 404, body: Buffer.alloc(0), headers };
  try {
    if (!statSync(file).isFile()) return { status: 404, body: Buffer.alloc(0), headers };
    return { status: 200, body: readFileSync(file), headers: { ...headers, 'content-type': type } };
  } catch {
    return { status: 404, body: Buffer.alloc(0), headers };
  }
}
