// The app:// protocol: the renderer is served from the built files with our CSP, instead of
// file:// (which would give the page access to the whole file system's origin).
import { protocol } from 'electron';
import { rendererFile } from './renderer-files';

export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://tessera`;

/** Must run before the app is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true } }]);
}

export function serveRenderer(rendererDir: string): void {
  protocol.handle(APP_SCHEME, (request) => {
    const url = new URL(request.url);
    const file = url.host === 'tessera' ? rendererFile(rendererDir, url.pathname) : { status: 404, body: Buffer.alloc(0), headers: {} };
    return new Response(file.status === 200 ? new Uint8Array(file.body) : null, { status: file.status, headers: file.headers });
  });
}
