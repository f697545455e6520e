// RFC 7512 PKCS#11 URIs: how the renderer, the CLI and the audit log name an object. Unlike a
// handle or a slot number, a URI survives restarts. Labels and ids are percent-encoded byte for byte
// (RFC 7512 §2.3: pk11-token, pk11-object and pk11-id are byte strings), never through lossy text.
import { CKO } from './constants';

/** What a URI names an object by. A label given as a string is taken as its UTF-8 bytes. */
export interface ObjectIdentity {
  tokenLabel: string | Buffer;
  tokenSerial: string;
  objectClass: number;
  label: string | Buffer;
  id: Buffer;
}

const typeNames: Record<number, string> = {
  [CKO.PUBLIC_KEY]: 'public',
  [CKO.PRIVATE_KEY]: 'private',
  [CKO.CERTIFICATE]: 'cert',
  [CKO.SECRET_KEY]: 'secret-key',
  [CKO.DATA]: 'data',
};

function encodeText(text: string | Buffer): string {
  return encodeBytes(typeof text === 'string' ? Buffer.from(text, 'utf8') : text, true);
}

/** Each byte's percent-encoding (`%xx`), and the same with RFC 3986 unreserved characters kept as they are. */
const percent = Array.from({ length: 256 }, (_, byte) => `%${byte.toString(16).padStart(2, '0')}`);
const keptOrPercent = percent.map((encoded, byte) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : encoded));

function encodeBytes(bytes: Buffer, keepUnreserved: boolean): string {
  const table = keepUnreserved ? keptOrPercent : percent;
  let out = '';
  for (const byte of bytes) out += table[byte] as string;
  return out;
}

/** The token part of an object's URI (`pkcs11:token=…;serial=…`), the same for every object of a partition. */
export function tokenUriPart(tokenLabel: string | Buffer, tokenSerial: string): string {
  return `pkcs11:token=${encodeText(tokenLabel)};serial=${encodeText(tokenSerial)}`;
}

/**
 * The object's RFC 7512 URI: `pkcs11:token=…;serial=…;object=…;id=…;type=…`, every byte of the token
 * label, label and id percent-encoded as it is on the token (unreserved ASCII kept in token and object).
 */
export function objectUri(o: ObjectIdentity): string {
  return objectUriIn(tokenUriPart(o.tokenLabel, o.tokenSerial), o);
}

/** `objectUri` with the token part made already by `tokenUriPart` (a listing makes it once). */
export function objectUriIn(tokenPart: string, o: Pick<ObjectIdentity, 'objectClass' | 'label' | 'id'>): string {
  const type = typeNames[o.objectClass];
  return `${tokenPart};object=${encodeText(o.label)};id=${encodeBytes(o.id, false)}${type ? `;type=${type}` : ''}`;
}

/** A parsed URI: labels and ids as the bytes the URI names; `vendor` holds `x-…` attributes as text. */
export interface ParsedUri {
  token?: Buffer;
  serial?: string;
  object?: Buffer;
  id?: Buffer;
  objectClass?: number;
  vendor?: Record<string, string>;
}

/**
 * Parses the path attributes the terminal writes; vendor attributes (`x-…`, RFC 7512 §2.3) are kept
 * in `vendor`, other unknown ones ignored. Null for a malformed URI (bad percent-encoding, unknown type).
 */
export function parseObjectUri(uri: string): ParsedUri | null {
  if (!uri.startsWith('pkcs11:')) return null;
  const path = uri.slice('pkcs11:'.length).split('?')[0] ?? '';
  const out: ParsedUri = {};
  for (const part of path.split(';')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 1) return null;
    const key = part.slice(0, eq);
    let bytes: Buffer;
    try {
      bytes = decodePercent(part.slice(eq + 1));
    } catch {
      return null;
    }
    switch (key) {
      case 'token':
        out.token = bytes;
        break;
      case 'serial':
        out.serial = bytes.toString('utf8');
        break;
      case 'object':
        out.object = bytes;
        break;
      case 'id':
        out.id = bytes;
        break;
      case 'type': {
        const entry = Object.entries(typeNames).find(([, name]) => name === bytes.toString('utf8'));
        if (!entry) return null;
        out.objectClass = Number(entry[0]);
        break;
      }
      default:
        if (key.startsWith('x-')) out.vendor = { ...out.vendor, [key]: bytes.toString('utf8') };
        break;
    }
  }
  return out;
}

function decodePercent(text: string): Buffer {
  const chunks: Buffer[] = [];
  for (const m of text.matchAll(/%([0-9a-fA-F]{2})|([^%]+)|(%)/g)) {
    if (m[3] !== undefined) throw new URIError('bad percent-encoding');
    chunks.push(m[1] !== undefined ? Buffer.from([parseInt(m[1], 16)]) : Buffer.from(m[2] ?? '', 'utf8'));
  }
  return Buffer.concat(chunks);
}

const DIGEST = 'x-tessera-digest';
const TWIN = 'x-tessera-twin';

/**
 * An object reference (`ref`): the object's URI plus the vendor attributes (RFC 7512 §2.3, `x-…`)
 * `x-tessera-digest` (a digest of the object's public attributes, hex) and, for the second and later
 * of exact twins (same URI and digest), `x-tessera-twin=N` (N ≥ 1, in the token's order). It is
 * itself a PKCS#11 URI, so tools that do not know the vendor attributes still read the rest.
 */
export function objectRef(uri: string, digest: string, twin: number): string {
  return `${uri};${DIGEST}=${digest}${twin > 0 ? `;${TWIN}=${twin}` : ''}`;
}

/** What a ref names: the URI's attributes, the digest (null for a plain URI) and the twin ordinal (0 when absent). */
export interface ParsedRef extends ParsedUri {
  digest: string | null;
  twin: number;
}

/** Parses a ref (or a plain URI, whose digest is then null); null when it is neither. */
export function parseObjectRef(ref: string): ParsedRef | null {
  const parsed = parseObjectUri(ref);
  if (!parsed) return null;
  const digest = parsed.vendor?.[DIGEST] ?? null;
  const twinText = parsed.vendor?.[TWIN];
  if (digest !== null && !/^[0-9a-f]{16,64}$/.test(digest)) return null;
  if (twinText !== undefined && !/^[1-9][0-9]{0,6}$/.test(twinText)) return null;
  return { ...parsed, digest, twin: twinText === undefined ? 0 : Number(twinText) };
}
