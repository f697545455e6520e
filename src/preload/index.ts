// The page's only door to the terminal: `window.tessera`, one function per contract channel and
// one `on…` subscription per event. Electron's event object never reaches the page.
import { contextBridge, ipcRenderer } from 'electron';
import { createApi } from '../shared/contract';

contextBridge.exposeInMainWorld(
  'tessera',
  createApi({
    invoke: (channel, request) => ipcRenderer.invoke(channel, request),
    subscribe: (event, listener) => {
      const handler = (_event: unknown, payload: unknown): void => listener(payload);
      ipcRenderer.on(event, handler);
      return () => ipcRenderer.removeListener(event, handler);
    },
  }),
);
