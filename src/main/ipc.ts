// The only place the main process touches ipcMain: one handler per contract channel, each passing
// the sender frame to the dispatcher, which checks it and the payload before any core code runs.
import { type BrowserWindow, ipcMain } from 'electron';
import { channelNames } from '../shared/contract';
import type { Dispatcher } from './dispatch';

export function wireIpc(dispatcher: Dispatcher, window: () => BrowserWindow | null): () => void {
  for (const channel of channelNames) {
    ipcMain.handle(channel, (event, payload: unknown) =>
      dispatcher.invoke({ url: event.senderFrame?.url ?? '', isMainFrame: event.senderFrame !== null && event.senderFrame === event.sender.mainFrame }, channel, payload),
    );
  }
  return dispatcher.subscribe((event, payload) => {
    const target = window();
    if (target && !target.isDestroyed()) target.webContents.send(event, payload);
  });
}
