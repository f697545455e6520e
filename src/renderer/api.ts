// The preload's `window.tessera`, typed from the contract. Only store actions call it.
import type { TesseraApi } from '../shared/contract';

declare global {
  interface Window {
    tessera: TesseraApi;
  }
}

export const api: TesseraApi = window.tessera;
