// The one IPC contract. A channel is declared here once: its request schema (checked in the main
// process before any handler runs) and its response type. The preload, the renderer and the test
// host all derive their types and their API object from this file.
import { z } from 'zod';
import { ceremonyStart } from './ceremonies';
import type { Result } from './errors';
import type {
  AppInfo,
  AuditEntryView,
  AuditExportReport,
  AuditVerification,
  BackupFileView,
  BackupSetView,
  BackupVerification,
  CardSetView,
  CeremonyView,
  InvalidatedKeyView,
  MediaView,
  ModuleListView,
  ObjectDetails,
  ObjectSummary,
  PartitionChoice,
  PartitionView,
  PolicyView,
  ReadersSnapshot,
  SoSessionView,
} from './types';
import type { ScriptFileView, ScriptRunView } from './script-run';

const none = z.object({}).strict();
const path = z.string().min(1).max(4096);
const pin = z.string().min(1).max(255);

const ceremonyInput = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('pin'), pin, repeat: pin.optional() }).strict(),
  z.object({ kind: z.literal('confirm') }).strict(),
  z.object({ kind: z.literal('choose'), only: z.array(z.number().int().min(0)).max(1_000_000).nullable(), replace: z.array(z.number().int().min(0)).max(1_000_000) }).strict(),
  z.object({ kind: z.literal('fingerprint'), fingerprint: z.string().max(128) }).strict(),
  z.object({ kind: z.literal('cancel') }).strict(),
]);

export const channels = {
  'app:info': { request: none },
  'hsm:modules': { request: none },
  'hsm:openModule': { request: z.object({ modulePath: path }).strict() },
  'hsm:select': { request: z.object({ modulePath: path, serial: z.string().min(1).max(64) }).strict() },
  'hsm:current': { request: none },
  /** finalTry: the officer acknowledged that the partition has one try left (refused without it when it says so). */
  'hsm:login': { request: z.object({ pin, finalTry: z.literal(true).optional() }).strict() },
  'hsm:logout': { request: none },
  'keys:list': { request: none },
  'keys:details': { request: z.object({ ref: z.string().min(8).max(8192) }).strict() },
  'keys:invalidate': { request: z.object({ id: z.string().regex(/^([0-9a-f]{2}){1,128}$/) }).strict() },
  'keys:invalidated': { request: none },
  'policy:show': { request: none },
  'cards:readers': { request: none },
  'audit:list': {
    request: z
      .object({ limit: z.number().int().min(1).max(5000), beforeSeq: z.number().int().min(1).optional() })
      .strict(),
  },
  'audit:verify': { request: none },
  'audit:acknowledge': { request: z.object({ pin, finalTry: z.literal(true).optional() }).strict() },
  'audit:export': {
    request: z
      .object({ media: path, since: z.union([z.literal('last-export'), z.string().regex(/^\d{4}-\d{2}-\d{2}$/)]).nullable(), until: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).nullable() })
      .strict(),
  },
  'cards:set': { request: none },
  'ceremony:start': { request: ceremonyStart() },
  'ceremony:input': { request: z.object({ id: z.string().uuid(), seq: z.number().int().min(0), input: ceremonyInput }).strict() },
  'ceremony:current': { request: none },
  'so:session': { request: none },
  'so:logout': { request: none },
  'so:setIdle': { request: z.object({ minutes: z.number().int().min(1).max(60) }).strict() },
  'backup:set': { request: none },
  'backup:media': { request: none },
  'backup:files': { request: z.object({ media: path }).strict() },
  'backup:verify': { request: z.object({ file: path }).strict() },
  'script:list': { request: none },
  'script:open': { request: z.object({ path, practice: z.boolean() }).strict() },
  'script:current': { request: none },
  'script:begin': { request: z.object({ id: z.string().uuid() }).strict() },
  'script:step': { request: z.object({ id: z.string().uuid() }).strict() },
  'script:confirm': { request: z.object({ id: z.string().uuid(), by: z.string().min(1).max(64) }).strict() },
  'script:exception': { request: z.object({ id: z.string().uuid(), text: z.string().min(1).max(2000), by: z.string().min(1).max(64) }).strict() },
  'script:cancel': { request: z.object({ id: z.string().uuid() }).strict() },
  'script:finish': { request: z.object({ id: z.string().uuid() }).strict() },
  'script:close': { request: z.object({ id: z.string().uuid() }).strict() },
} as const satisfies Record<string, { request: z.ZodType }>;

export interface Responses {
  'app:info': AppInfo;
  'hsm:modules': ModuleListView;
  'hsm:openModule': PartitionChoice;
  'hsm:select': PartitionView;
  'hsm:current': PartitionView | null;
  'hsm:login': PartitionView;
  'hsm:logout': PartitionView;
  'keys:list': ObjectSummary[];
  'keys:details': ObjectDetails;
  'keys:invalidate': InvalidatedKeyView;
  'keys:invalidated': InvalidatedKeyView[];
  'policy:show': PolicyView;
  'cards:readers': ReadersSnapshot;
  'audit:list': AuditEntryView[];
  'audit:verify': AuditVerification;
  /** The acknowledgement entry (an officer's crypto-officer PIN ends the audit alarm). */
  'audit:acknowledge': AuditEntryView;
  /** The export written to the stick, read back and verified (docs/audit-export.md). */
  'audit:export': AuditExportReport;
  'cards:set': CardSetView | null;
  'ceremony:start': CeremonyView;
  'ceremony:input': CeremonyView;
  'ceremony:current': CeremonyView | null;
  'so:session': SoSessionView;
  'so:logout': SoSessionView;
  'so:setIdle': SoSessionView;
  'backup:set': BackupSetView | null;
  'backup:media': MediaView[];
  'backup:files': BackupFileView[];
  'backup:verify': BackupVerification;
  /** Ceremony scripts the window may open: on the offered media, and the shipped examples. */
  'script:list': ScriptFileView[];
  'script:open': ScriptRunView;
  'script:current': ScriptRunView | null;
  'script:begin': ScriptRunView;
  'script:step': ScriptRunView;
  'script:confirm': ScriptRunView;
  'script:exception': ScriptRunView;
  'script:cancel': ScriptRunView;
  /** Signs and writes the transcript (the crypto officer logged in). */
  'script:finish': ScriptRunView;
  'script:close': null;
}

/** Main-to-renderer pushes. */
export interface Events {
  'cards:readersChanged': ReadersSnapshot;
  'hsm:partitionChanged': PartitionView | null;
  'ceremony:changed': CeremonyView;
  'so:changed': SoSessionView;
  'script:changed': ScriptRunView;
}

export type Channel = keyof typeof channels;
export type EventName = keyof Events;
export type RequestOf<C extends Channel> = z.infer<(typeof channels)[C]['request']>;
export type ResponseOf<C extends Channel> = Responses[C];

export const channelNames = Object.keys(channels) as Channel[];
export const eventNames: EventName[] = ['cards:readersChanged', 'hsm:partitionChanged', 'ceremony:changed', 'so:changed', 'script:changed'];

export function isChannel(name: unknown): name is Channel {
  return typeof name === 'string' && Object.hasOwn(channels, name);
}

// ---- The API object the preload exposes as `window.tessera` ----

type Namespace<C extends string> = C extends `${infer N}:${string}` ? N : never;
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- "every field optional"
type Call<C extends Channel> = {} extends RequestOf<C>
  ? (request?: RequestOf<C>) => Promise<Result<ResponseOf<C>>>
  : (request: RequestOf<C>) => Promise<Result<ResponseOf<C>>>;

export type Unsubscribe = () => void;

export type TesseraApi = {
  [N in Namespace<Channel>]: { [C in Channel as C extends `${N}:${infer M}` ? M : never]: Call<C> };
} & {
  on: { [E in EventName as E extends `${infer N}:${infer M}` ? `${N}${Capitalize<M>}` : never]: (listener: (payload: Events[E]) => void) => Unsubscribe };
};

export interface Transport {
  invoke(channel: Channel, request: unknown): Promise<Result<unknown>>;
  subscribe(event: EventName, listener: (payload: unknown) => void): Unsubscribe;
}

/**
 * Builds `window.tessera` from the contract: one function per channel (`tessera.hsm.login`), one
 * subscription per event (`tessera.on.cardsReadersChanged`).
 */
export function createApi(transport: Transport): TesseraApi {
  const api: Record<string, Record<string, unknown>> = { on: {} };
  for (const channel of channelNames) {
    const [namespace, method] = channel.split(':') as [string, string];
    api[namespace] ??= {};
    api[namespace][method] = (request: unknown = {}) => transport.invoke(channel, request);
  }
  for (const event of eventNames) {
    const [namespace, name] = event.split(':') as [string, string];
    const method = `${namespace}${name.charAt(0).toUpperCase()}${name.slice(1)}`;
    (api.on as Record<string, unknown>)[method] = (listener: (payload: unknown) => void) =>
      transport.subscribe(event, listener);
  }
  return api as unknown as TesseraApi;
}
