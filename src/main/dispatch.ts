// The IPC contract wired to core. Electron-free: the Electron main process and the Chromium host
// of the tests call the same `invoke`. Every request is checked, in this order: the sender frame,
// the channel name, the payload against the channel's schema. Handlers never throw across the
// boundary: errors travel as data with a closed code.
import { type Channel, type EventName, type Events, type RequestOf, type ResponseOf, channels, isChannel } from '../shared/contract';
import { type Result, fail, ok } from '../shared/errors';
import type { AppInfo } from '../shared/types';
import { toErrorData } from '../core/errors';
import type { Terminal } from '../core/terminal';
import { type SenderInfo, isTrustedSender } from './sender';

type Handlers = { [C in Channel]: (request: RequestOf<C>) => Promise<ResponseOf<C>> | ResponseOf<C> };

export interface Dispatcher {
  invoke(sender: SenderInfo, channel: unknown, payload: unknown): Promise<Result<unknown>>;
  /** Forwards core's events to a front end; returns the unsubscribe function. */
  subscribe(emit: <E extends EventName>(event: E, payload: Events[E]) => void): () => void;
}

export function createDispatcher(terminal: Terminal, options: { origin: string; app: Omit<AppInfo, 'home'> }): Dispatcher {
  const handlers: Handlers = {
    'app:info': () => ({ ...options.app, home: terminal.home }),
    'hsm:modules': () => terminal.modules.list(),
    'hsm:openModule': (r) => terminal.partition.openModule(r.modulePath),
    'hsm:select': (r) => terminal.partition.select(r.modulePath, r.serial),
    'hsm:current': () => terminal.partition.current(),
    // The PIN arrives as a string (structured clone); core holds it as a Buffer it wipes.
    'hsm:login': (r) => terminal.partition.login(Buffer.from(r.pin, 'utf8'), { finalTry: r.finalTry === true }),
    'hsm:logout': () => terminal.partition.logout(),
    'keys:list': () => terminal.partition.objects(),
    'keys:details': (r) => terminal.partition.details(r.ref),
    'keys:invalidate': (r) => terminal.keys.invalidate(r.id),
    'keys:invalidated': () => terminal.keys.invalidated(),
    'policy:show': () => terminal.keys.policy(),
    'cards:readers': () => terminal.readers.snapshot(),
    'audit:list': (r) => terminal.audit.list(r.limit, r.beforeSeq),
    'audit:verify': () => terminal.audit.verify(),
    'audit:acknowledge': (r) => terminal.partition.acknowledgeAuditAlarm(Buffer.from(r.pin, 'utf8'), { finalTry: r.finalTry === true }),
    'audit:export': async (r) => {
      // The window may export only to media the terminal offers.
      await terminal.backup.requireOffered(r.media, 'media');
      return terminal.record.exportAudit({ media: r.media, since: r.since, until: r.until });
    },
    'cards:set': () => terminal.cardSets.view(),
    'ceremony:start': async (r) => {
      // The window may name only media the terminal offers, and backup files on them.
      if ('media' in r) await terminal.backup.requireOffered(r.media, 'media');
      if ('file' in r) await terminal.backup.requireOffered(r.file, 'file');
      return terminal.ceremonies.start(r);
    },
    // PINs arrive as strings (structured clone); core holds them as Buffers it wipes.
    'ceremony:input': (r) =>
      terminal.ceremonies.provide(
        r.id,
        r.input.kind === 'pin'
          ? { kind: 'pin', pin: Buffer.from(r.input.pin, 'utf8'), ...(r.input.repeat === undefined ? {} : { repeat: Buffer.from(r.input.repeat, 'utf8') }) } : r.input,
        r.seq,
      ),
    'ceremony:current': () => terminal.ceremonies.current(),
    'so:session': () => terminal.so.view(),
    'so:logout': async () => {
      await terminal.so.end('logout');
      return terminal.so.view();
    },
    'so:setIdle': (r) => {
      terminal.so.setIdleMinutes(r.minutes);
      terminal.so.touch();
      return terminal.so.view();
    },
    'backup:set': () => terminal.backup.backupSet(),
    'backup:media': () => terminal.backup.media(),
    'backup:files': (r) => terminal.backup.files(r.media),
    'backup:verify': (r) => terminal.backup.verify(r.file),
    'script:list': () => terminal.scripts.list(),
    'script:open': (r) => terminal.scripts.open(r.path, r.practice),
    'script:current': () => terminal.scripts.current(),
    'script:begin': (r) => terminal.scripts.with(r.id).begin(),
    'script:step': (r) => terminal.scripts.with(r.id).runStep({ retryWrongPin: true }),
    'script:confirm': (r) => terminal.scripts.with(r.id).confirmManual(r.by),
    'script:exception': (r) => terminal.scripts.with(r.id).recordException(r.text, r.by),
    'script:cancel': (r) => terminal.scripts.with(r.id).cancel(),
    'script:finish': (r) => terminal.scripts.with(r.id).finish(),
    'script:close': (r) => terminal.scripts.close(r.id),
  };

  return {
    async invoke(sender, channel, payload) {
      if (!isTrustedSender(sender, options.origin)) {
        return fail({ code: 'FORBIDDEN_SENDER', message: 'This request did not come from the terminal\'s own window and was refused.' });
      }
      if (!isChannel(channel)) {
        return fail({ code: 'UNKNOWN_CHANNEL', message: 'The terminal does not offer this operation.', detail: String(channel).slice(0, 64) });
      }
      const parsed = channels[channel].request.safeParse(payload);
      if (!parsed.success) {
        // Name the fields only: echoing values could echo a PIN.
        const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(request)'}: ${i.code}`).join('; ');
        return fail({ code: 'INVALID_REQUEST', message: 'The request was malformed and was refused. Nothing was done.', detail: `${channel}: ${fields}` });
      }
      try {
        const handler = handlers[channel] as (request: unknown) => unknown;
        return ok(await handler(parsed.data));
      } catch (error) {
        return fail(toErrorData(error));
      }
    },

    subscribe(emit) {
      const off = [
        terminal.readers.onChange((snapshot) => emit('cards:readersChanged', snapshot)),
        terminal.partition.onChange((view) => emit('hsm:partitionChanged', view)),
        terminal.ceremonies.onCeremony((view) => emit('ceremony:changed', view)),
        terminal.so.onChange((view) => emit('so:changed', view)),
        terminal.scripts.onChange((view) => emit('script:changed', view)),
      ];
      return () => off.forEach((unsubscribe) => unsubscribe());
    },
  };
}
