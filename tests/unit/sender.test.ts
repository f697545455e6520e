import { describe, expect, it } from 'vitest';
import { isTrustedSender } from '../../src/main/sender';

const ORIGIN = 'app://tessera';

describe('IPC sender check', () => {
  it('accepts the main frame of our own origin', () => {
    expect(isTrustedSender({ url: 'app://tessera/index.html', isMainFrame: true }, ORIGIN)).toBe(true);
    expect(isTrustedSender({ url: 'app://tessera/index.html#keys', isMainFrame: true }, ORIGIN)).toBe(true);
  });

  it('refuses subframes, other origins and look-alikes', () => {
    const refused = [
      { url: 'app://tessera/index.html', isMainFrame: false },
      { url: 'app://evil/index.html', isMainFrame: true },
      { url: 'app://tessera.evil/index.html', isMainFrame: true },
      { url: 'https://tessera/index.html', isMainFrame: true },
      { url: 'file:///tmp/index.html', isMainFrame: true },
      { url: 'app://user:pw@tessera/index.html', isMainFrame: true },
      { url: '', isMainFrame: true },
      { url: 'about:blank', isMainFrame: true },
    ];
    for (const sender of refused) expect(isTrustedSender(sender, ORIGIN), sender.url).toBe(false);
  });

  it('works for an https origin too (the Chromium host)', () => {
    expect(isTrustedSender({ url: 'https://tessera.invalid/index.html', isMainFrame: true }, 'https://tessera.invalid')).toBe(true);
    expect(isTrustedSender({ url: 'https://tessera.invalid:444/index.html', isMainFrame: true }, 'https://tessera.invalid')).toBe(false);
  });
});
