// RFC 7512 PKCS#11 URIs: how the renderer, the CLI and the audit log name an object. Unlike a
// handle or a slot number, a URI survives restarts.
import { CKO } from './constants';

export interface ObjectIdentity {
  tokenLabel: string;
  tokenSerial: string;
  objectClass: number;
  label: string;
  id: Buffer;
}

const typeNames: Record<number, string> = {
  [CKO.PUBLIC_KEY]: 'public',
  [CKO.PRIVATE_KEY]: 'private',
  [CKO.CERTIFICATE]: 'cert',
  [CKO.SECRET_KEY]: 'secret-key',
  [CKO.DATA]: 'data',
};

function encodeText(text: string): string {
  return encodeBytes(Buffer.from(text, 'utf8'), true);
}

function encodeBytes(bytes: Buffer, keepUnreserved: boolean): string {
  let out = '';
  for (const byte of bytes) {
    const ch = String.fromCharCode(byte);
    out += keepUnreserved && /[A-Za-z0-9\-._~]/.test(ch) ? ch : `%${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

export function objectUri(o: ObjectIdentity): string {
  const parts = [
    `token=${encodeText(o.tokenLabel)}`,
    `serial=${encodeText(o.tokenSerial)}`,
    `object=${encodeText(o.label)}`,
    `id=${encodeBytes(o.id, false)}`,
  ];
  const type = typeNames[o.objectClass];
  if (type) parts.push(`type=${type}`);
  return `pkcs11:${parts.join(';')}`;
}

export interface ParsedUri {
  token?: string;
  serial?: string;
  object?: string;
  id?: Buffer;
  objectClass?: number;
}

/** Parses the path attributes the terminal writes; unknown attributes are ignored (RFC 7512 §2.3). */
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
        out.token = bytes.toString('utf8');
        break;
      case 'serial':
        out.serial = bytes.toString('utf8');
        break;
      case 'object':
        out.object = bytes.toString('utf8');
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
