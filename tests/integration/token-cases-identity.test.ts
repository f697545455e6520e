// Issue 13, byte-exact identity, on the token cases of tests/token-cases (copied from the team's ../shared/cases/tokens) (built by their own
// setup.sh into a temporary CASES_OUT, with their own SoftHSM2 config and a private keyring: no lab).
// Case 03: labels with NUL bytes, invalid UTF-8, twins that differ only in invalid bytes, ANSI
// escapes, a newline, 1000 bytes. Case 06: key pairs and AES keys sharing label, id and class.
// Checked against the bytes the case wrote and against OpenSC's pkcs11-tool.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseObjectRef, parseObjectUri } from '../../src/core/hsm/pkcs11-uri';
import type { AttributeView, ObjectSummary, TokenStatus } from '../../src/shared/types';

const root = resolve(import.meta.dirname, '../..');
const cases = resolve(root, 'tests/token-cases');
const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const USER_PIN = 'user-pin-1234';
const out = mkdtempSync(join(tmpdir(), 'cases-i13-identity-'));
let dbus = '';

/** The labels case 03's setup.sh writes, by CKA_ID (01…0c), byte for byte. */
const written03: Record<string, Buffer> = {
  '01': Buffer.from('plain'),
  '02': Buffer.from('nul\0inside', 'latin1'),
  '03': Buffer.from('trailing-nuls\0\0\0\0\0\0', 'latin1'),
  '04': Buffer.from('bad-utf8-\xff\xfe', 'latin1'),
  '05': Buffer.from('cut-utf8-\xc3', 'latin1'),
  '06': Buffer.from('twin-\xff', 'latin1'),
  '07': Buffer.from('twin-\xfe', 'latin1'),
  '08': Buffer.from('   padded   '),
  '09': Buffer.from('L'.repeat(1000)),
  '0a': Buffer.alloc(0),
  '0b': Buffer.from('\x1b[31mRED\x1b[0m\x1b[2K', 'latin1'),
  '0c': Buffer.from('evil\nsecret-key   AES      256  99       forged-row'),
};

function caseDir(name: string): string {
  return join(out, name);
}

function build(name: string): void {
  execFileSync('bash', [join(cases, name, 'setup.sh')], { env: { ...process.env, CASES_OUT: out, CASES: cases }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The environment of a case, set explicitly so that nothing of the lab's leaks in. */
function caseEnv(name: string): NodeJS.ProcessEnv {
  return { ...process.env, SOFTHSM2_CONF: join(caseDir(name), 'softhsm2.conf'), TESSERA_HOME: join(caseDir(name), 'home'), DBUS_SESSION_BUS_ADDRESS: dbus };
}

interface Run {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

/** `tessera ARGS --module … --token LABEL` on a case's token, as its own process. */
function tessera(name: string, token: string, args: string[]): Run {
  const result = spawnSync(process.execPath, [join(root, 'bin', 'tessera.js'), ...args, '--module', MODULE, '--token', token], { env: caseEnv(name), input: '', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr.toString('utf8') };
}

/** Like `tessera`, logged in as crypto officer with the PIN on descriptor 3 (a pipe, as `--pin-fd` expects). */
function tesseraLoggedIn(name: string, token: string, args: string[]): Run {
  const result = spawnSync('sh', ['-c', `printf %s "$PIN" | "$NODE" "$CLI" "$@" 3<&0 </dev/null`, 'sh', ...args, '--module', MODULE, '--token', token, '--login', '--pin-fd', '3'], {
    env: { ...caseEnv(name), PIN: USER_PIN, NODE: process.execPath, CLI: join(root, 'bin', 'tessera.js') },
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr.toString('utf8') };
}

function json<T>(run: Run): T {
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout.toString('utf8')) as T;
}

/** `pkcs11-tool -O` (OpenSC): each object's id and label bytes as it prints them (C strings: cut at the first NUL). */
function pkcs11ToolLabels(name: string, token: string, login: boolean): { id: string; label: Buffer }[] {
  const args = ['--module', MODULE, '--token-label', token, '-O', ...(login ? ['--login', '--pin', USER_PIN] : [])];
  const text = execFileSync('pkcs11-tool', args, { env: caseEnv(name), stdio: ['ignore', 'pipe', 'pipe'] }).toString('latin1');
  return [...text.matchAll(/\n {2}label: {6}([\s\S]*?)\n {2}ID: {9}([0-9a-f]*)\n/g)].map((m) => ({ id: m[2] ?? '', label: Buffer.from(m[1] ?? '', 'latin1') }));
}

type Shown = ObjectSummary & { attributes: AttributeView[]; withheld: { name: string; reason: string }[] };

beforeAll(() => {
  build('03-object-label-bytes');
  build('06-duplicate-objects');
  execFileSync('bash', [join(cases, 'lib', 'keyring.sh'), 'start'], { env: { ...process.env, CASES_OUT: out }, stdio: 'ignore' });
  dbus = readFileSync(join(out, '_keyring', 'address'), 'utf8').trim();
}, 120_000);

afterAll(() => {
  execFileSync('bash', [join(cases, 'lib', 'keyring.sh'), 'stop'], { env: { ...process.env, CASES_OUT: out }, stdio: 'ignore' });
  rmSync(out, { recursive: true, force: true });
});

describe('case 03: labels that are not clean text', () => {
  const name = '03-object-label-bytes';

  it('lists every label byte for byte (labelHex), as the case wrote it and as pkcs11-tool reads it', () => {
    const objects = json<ObjectSummary[]>(tessera(name, 'Labels', ['objects', '--json']));
    expect(objects).toHaveLength(12);
    const tool = new Map(pkcs11ToolLabels(name, 'Labels', false).map((o) => [o.id, o.label]));
    for (const o of objects) {
      const bytes = Buffer.from(o.labelHex, 'hex');
      expect(bytes, `label of id ${o.id}`).toEqual(written03[o.id]);
      const nul = bytes.indexOf(0);
      expect(tool.get(o.id), `pkcs11-tool's label of id ${o.id}`).toEqual(nul === -1 ? bytes : bytes.subarray(0, nul));
    }
    const byId = new Map(objects.map((o) => [o.id, o]));
    expect(byId.get('01')?.label).toBe('plain');
    expect(byId.get('02')?.label).toBe('nul\\x00inside');
    expect(byId.get('04')?.label).toBe('bad-utf8-\\xff\\xfe');
    expect(byId.get('06')?.label).toBe('twin-\\xff');
    expect(byId.get('07')?.label).toBe('twin-\\xfe');
    expect(byId.get('0b')?.label).toBe('\\x1b[31mRED\\x1b[0m\\x1b[2K');
    expect(byId.get('0c')?.label).toBe('evil\\x0asecret-key   AES      256  99       forged-row');
    expect(new Set(objects.map((o) => o.ref)).size).toBe(12);
    expect(new Set(objects.map((o) => o.uri)).size).toBe(12);
  });

  it('percent-encodes the real bytes in URIs and refs, which parse back to them', () => {
    const objects = json<ObjectSummary[]>(tessera(name, 'Labels', ['objects', '--json']));
    const twin = objects.find((o) => o.id === '06');
    expect(twin?.uri).toContain(';object=twin-%ff;');
    for (const o of objects) {
      expect(parseObjectUri(o.uri)?.object).toEqual(Buffer.from(o.labelHex, 'hex'));
      expect(parseObjectUri(o.uri)?.id).toEqual(Buffer.from(o.id, 'hex'));
      expect(parseObjectRef(o.ref)?.object).toEqual(Buffer.from(o.labelHex, 'hex'));
      expect(parseObjectUri(o.uri)?.token).toEqual(Buffer.from('Labels'));
    }
    const status = json<{ token: TokenStatus }>(tessera(name, 'Labels', ['status', '--json']));
    expect(status.token.label).toBe('Labels');
    expect(status.token.labelHex).toBe(Buffer.from('Labels').toString('hex'));
  });

  it('opens every listed object by its ref, and that object only', () => {
    const objects = json<ObjectSummary[]>(tessera(name, 'Labels', ['objects', '--json']));
    for (const o of objects) {
      const shown = json<Shown>(tessera(name, 'Labels', ['objects', 'show', o.ref, '--json']));
      expect(shown.ref).toBe(o.ref);
      expect(shown.id).toBe(o.id);
      expect(shown.labelHex).toBe(o.labelHex);
      expect(shown.attributes.find((a) => a.name === 'label')?.value).toBe(o.label);
      expect(shown.attributes.find((a) => a.name === 'id')?.value).toBe(o.id);
    }
  }, 240_000);

  it('prints text with no control character and exactly one line per object', () => {
    const run = tessera(name, 'Labels', ['objects']);
    expect(run.status).toBe(0);
    const bad = [...run.stdout].filter((b) => (b < 0x20 && b !== 0x0a) || b === 0x7f);
    expect(bad).toEqual([]);
    const lines = run.stdout.toString('utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(1 + 12 + 1);
    expect(lines.at(-1)).toBe('12 objects');
    // CLASS(12) TYPE(14) BITS(5), two spaces, then the id.
    const ids = lines.slice(1, -1).map((l) => l.slice(35, 43).trim()).sort();
    expect(ids).toEqual(Object.keys(written03).sort());
    expect(lines.find((l) => l.includes(' 09 '))).toMatch(/L{64}…\(1000 bytes\)$/);
    expect(lines.find((l) => / 0c /.test(l))).toContain('evil\\x0asecret-key');
  });

  it('says so, exit 1, when REF is not a ref or matches no object', () => {
    const notRef = tessera(name, 'Labels', ['objects', 'show', 'signer', '--json']);
    expect(notRef.status).toBe(1);
    expect(notRef.stdout.toString()).toBe('');
    expect(notRef.stderr).toMatch(/not an object reference/);
    const objects = json<ObjectSummary[]>(tessera(name, 'Labels', ['objects', '--json']));
    const first = objects[0] as ObjectSummary;
    const gone = tessera(name, 'Labels', ['objects', 'show', first.ref.replace(/x-tessera-digest=[0-9a-f]+/, 'x-tessera-digest=0000000000000000'), '--json']);
    expect(gone.status).toBe(1);
    expect(gone.stdout.toString()).toBe('');
    expect(gone.stderr).toMatch(/No object in the partition matches that reference/);
  });
});

describe('case 06: objects sharing label, id and class', () => {
  const name = '06-duplicate-objects';

  it('lists all six with distinct refs, and each ref opens exactly its object (the locked AES key is shown locked)', () => {
    // The terminal's own audit key pair, which its first crypto-officer login writes, is not the case's.
    const theCase = (label: string): boolean => label === 'signer' || label === 'kek';
    const objects = json<Shown[]>(tesseraLoggedIn(name, 'Dups', ['objects', '--json'])).filter((o) => theCase(o.label));
    expect(objects).toHaveLength(6);
    expect(new Set(objects.map((o) => o.ref)).size).toBe(6);
    // The two private "signer"/0102 keys share one URI, the two public ones another, the two "kek"/07 a third.
    expect(new Set(objects.map((o) => o.uri)).size).toBe(3);
    const tool = pkcs11ToolLabels(name, 'Dups', true).filter((o) => theCase(o.label.toString()));
    expect(tool).toHaveLength(6);
    expect(tool.map((o) => `${o.id} ${o.label.toString()}`).sort()).toEqual(objects.map((o) => `${o.id} ${Buffer.from(o.labelHex, 'hex').toString()}`).sort());
    for (const o of objects) {
      const shown = json<Shown>(tesseraLoggedIn(name, 'Dups', ['objects', 'show', o.ref, '--json']));
      expect({ ref: shown.ref, class: shown.class, keyType: shown.keyType, size: shown.size, sensitive: shown.sensitive, extractable: shown.extractable }).toEqual({
        ref: o.ref,
        class: o.class,
        keyType: o.keyType,
        size: o.size,
        sensitive: o.sensitive,
        extractable: o.extractable,
      });
    }
    const keks = objects.filter((o) => o.class === 'secret-key');
    const locked = keks.find((o) => o.size === 256) as ObjectSummary;
    const open = keks.find((o) => o.size === 128) as ObjectSummary;
    const lockedShown = json<Shown>(tesseraLoggedIn(name, 'Dups', ['objects', 'show', locked.ref, '--json']));
    expect({ size: lockedShown.size, sensitive: lockedShown.sensitive, extractable: lockedShown.extractable }).toEqual({ size: 256, sensitive: true, extractable: false });
    expect(lockedShown.attributes.find((a) => a.name === 'extractable')?.value).toBe('no');
    const openShown = json<Shown>(tesseraLoggedIn(name, 'Dups', ['objects', 'show', open.ref, '--json']));
    expect({ size: openShown.size, sensitive: openShown.sensitive, extractable: openShown.extractable }).toEqual({ size: 128, sensitive: false, extractable: true });
    const rsa = objects.filter((o) => o.keyType === 'RSA');
    for (const o of rsa) expect(json<Shown>(tesseraLoggedIn(name, 'Dups', ['objects', 'show', o.ref, '--json'])).keyType).toBe('RSA');
  }, 240_000);

  it('refuses a plain URI that several objects share, saying how many, instead of showing the first', () => {
    const objects = json<ObjectSummary[]>(tesseraLoggedIn(name, 'Dups', ['objects', '--json']));
    const kek = objects.find((o) => o.class === 'secret-key') as ObjectSummary;
    const run = tesseraLoggedIn(name, 'Dups', ['objects', 'show', kek.uri, '--json']);
    expect(run.status).toBe(1);
    expect(run.stdout.toString()).toBe('');
    expect(run.stderr).toMatch(/2 objects share that address/);
  });
});

describe('case 20: certificates sharing label and id', () => {
  const name = '20-twin-certificates';
  /** What openssl prints for each DER the case wrote: subject in RFC 2253 order, serial in hex. */
  const openssl = (file: string): { subject: string; serial: string } => {
    const text = execFileSync('openssl', ['x509', '-inform', 'DER', '-in', join(caseDir(name), 'out', file), '-noout', '-subject', '-serial', '-nameopt', 'RFC2253'], { encoding: 'utf8' });
    return { subject: /subject=(.*)/.exec(text)?.[1] ?? '', serial: /serial=(.*)/.exec(text)?.[1] ?? '' };
  };
  // RFC 2253 prints the DN's last RDN first; the listing keeps the order of the DER.
  const inDerOrder = (rfc2253: string): string => rfc2253.split(',').reverse().join(', ');

  it('tells them apart by subject and serial number, as openssl reads the files written, in JSON, in text and in objects show', () => {
    build(name);
    const objects = json<Shown[]>(tessera(name, 'Certs', ['objects', '--json']));
    expect(objects).toHaveLength(3);
    expect(new Set(objects.map((o) => o.uri)).size).toBe(1);
    const written = ['old.der', 'renewed.der', 'ca.der'].map(openssl);
    expect(objects.map((o) => `${o.subject} / ${o.serialNumber}`).sort()).toEqual(written.map((w) => `${inDerOrder(w.subject)} / ${w.serial}`).sort());
    for (const o of objects) expect(o.issuer).toBe(o.subject); // self-signed
    // Each ref opens that certificate and no other.
    for (const o of objects) {
      const shown = json<Shown>(tessera(name, 'Certs', ['objects', 'show', o.ref, '--json']));
      expect({ ref: shown.ref, subject: shown.subject, serialNumber: shown.serialNumber }).toEqual({ ref: o.ref, subject: o.subject, serialNumber: o.serialNumber });
    }
    // The text listing's rows differ too: one line each, with subject and serial.
    const text = tessera(name, 'Certs', ['objects']);
    expect(text.status).toBe(0);
    const rows = text.stdout.toString('utf8').split('\n').filter((l) => l.startsWith('certificate'));
    expect(rows).toHaveLength(3);
    expect(rows.map((r) => /\(subject (.*); serial (\w+)\)$/.exec(r)?.slice(1).join(' / ')).sort()).toEqual(written.map((w) => `${inDerOrder(w.subject)} / ${w.serial}`).sort());
  });
});
