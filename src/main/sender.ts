// Which frames may call the IPC contract: only the main frame of our own window, loaded from our
// own origin. Electron-free, so the Chromium test host applies the very same rule.

export interface SenderInfo {
  url: string;
  isMainFrame: boolean;
}

/** `origin` is scheme + host, e.g. "app://tessera". */
export function isTrustedSender(sender: SenderInfo, origin: string): boolean {
  if (!sender.isMainFrame) return false;
  let url: URL;
  let expected: URL;
  try {
    url = new URL(sender.url);
    expected = new URL(`${origin}/`);
  } catch {
    return false;
  }
  // Compare scheme and host explicitly: URL.origin is "null" for non-special schemes like app:.
  return url.protocol === expected.protocol && url.host === expected.host && url.username === '' && url.password === '';
}
