// Long loops of synchronous PKCS#11 calls give the event loop back every few milliseconds, so the
// window (and the card readers' events) never wait long while thousands of keys are processed.
import { setImmediate as immediate } from 'node:timers/promises';

export function pacer(sliceMs = 8): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < sliceMs) return;
    await immediate();
    since = performance.now();
  };
}

/** One turn of the event loop, before or after a single long call. */
export function turn(): Promise<void> {
  return immediate();
}
