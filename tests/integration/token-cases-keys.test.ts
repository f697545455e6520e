// Token cases 02 (dates SoftHSM2 refuses to read on private keys) and 08 (the key zoo), built by
// their own scripts in tests/token-cases (copied from the team's ../shared/cases/tokens) into a private folder, with a private D-Bus keyring:
// no lab token, config or keychain is used. Outcomes are checked against OpenSC's pkcs11-tool and
// against the bytes the case scripts wrote.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CKU } from '../../src/core/hsm/constants';
import { HsmWorker } from '../../src/core/hsm/hsm-worker-client';
import { listObjects, objectDetails } from '../../src/core/hsm/inventory';
import { Pkcs11Module } from '../../src/core/hsm/module';
import type { ObjectSummary } from '../../src/shared/types';
import { parseObjectList, root, tessera } from './support';

const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const PIN = 'user-pin-1234';
const cases = resolve(root, 'tests/token-cases');
const out = mkdtempSync(join(tmpdir(), 'tessera-token-cases-'));
const caseDir = (name: string): string => join(out, name);

function env(name: string): Record<string, string> {
  return {
    SOFTHSM2_CONF: join(caseDir(name), 'softhsm2.conf'),
    TESSERA_HOME: join(caseDir(name), 'home'),
    DBUS_SESSION_BUS_ADDRESS: readFileSync(join(out, '_keyring', 'address'), 'utf8').trim(),
  };
}

function listing(name: string, token: string, extra: string[] = []): { status: number | null; stdout: string; stderr: string } {
  return tessera(['objects', '--module', MODULE, '--token', token, '--login', '--pin-fd', '3', ...extra], { fds: [PIN], env: env(name) });
}

function json(name: string, token: string): ObjectSummary[] {
  const result = listing(name, token, ['--json']);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout) as ObjectSummary[];
}

function pkcs11ToolObjects(name: string, token: string): string {
  return execFileSync('pkcs11-tool', ['--module', MODULE, '--token-label', token, '--login', '--pin', PIN, '--list-objects'], {
    env: { ...process.env, SOFTHSM2_CONF: env(name).SOFTHSM2_CONF },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs `work` on a session logged in to the case's token, in this process (the GUI's path: core, and its HSM worker). */
async function inProcess<T>(name: string, token: string, work: (m: Pkcs11Module, slot: ReturnType<Pkcs11Module['findTokenByLabel']>, s: ReturnType<Pkcs11Module['openSession']>) => Promise<T>): Promise<T> {
  // SoftHSM2 reads its configuration at C_Initialize, and this file opens the module one case at a time.
  process.env.SOFTHSM2_CONF = env(name).SOFTHSM2_CONF;
  const module = Pkcs11Module.open(MODULE);
  try {
    const slot = module.findTokenByLabel(token);
    const session = module.openSession(slot.slot);
    try {
      session.login(CKU.USER, Buffer.from(PIN));
      return await work(module, slot, session);
    } finally {
      session.close();
    }
  } finally {
    module.close();
  }
}

/** CKA_START_DATE of the private RSA key of case 02, read by an independent client (PyKCS11): the CKR name, or "readable". */
function startDateAsPyKCS11Sees(name: string): string {
  const probe = spawnSync(
    '/usr/bin/python3',
    [
      '-c',
      `import sys; sys.path.insert(0, ${JSON.stringify(join(cases, 'lib'))})
import PyKCS11 as P
from p11raw import open_token
t = open_token('PrivDates', '${PIN}')
[h] = t.session.findObjects([(P.CKA_CLASS, P.CKO_PRIVATE_KEY), (P.CKA_LABEL, 'dated-rsa')])
try:
  t.session.getAttributeValue(h, [P.CKA_START_DATE]); print('readable')
except P.PyKCS11Error as e:
  print(P.CKR[e.value])`,
    ],
    { env: { ...process.env, SOFTHSM2_CONF: env(name).SOFTHSM2_CONF }, encoding: 'utf8' },
  );
  return probe.stdout.trim();
}

const find = (objects: ObjectSummary[], cls: ObjectSummary['class'], label: string): ObjectSummary => {
  const found = objects.filter((o) => o.class === cls && o.label === label);
  expect(found, `${cls} ${label}`).toHaveLength(1);
  return found[0] as ObjectSummary;
};

beforeAll(() => {
  for (const name of ['02-date-on-private-key', '08-key-zoo']) {
    execFileSync('bash', [join(cases, name, 'setup.sh')], { env: { ...process.env, CASES_OUT: out }, stdio: ['ignore', 'ignore', 'pipe'] });
  }
  execFileSync('bash', [join(cases, 'lib', 'keyring.sh'), 'start'], { env: { ...process.env, CASES_OUT: out }, stdio: 'ignore' });
}, 120_000);

afterAll(() => {
  spawnSync('bash', [join(cases, 'lib', 'keyring.sh'), 'stop'], { env: { ...process.env, CASES_OUT: out }, stdio: 'ignore' });
  rmSync(out, { recursive: true, force: true });
});

describe('case 02: a private key whose dates SoftHSM2 refuses to read', () => {
  const name = '02-date-on-private-key';

  it('lists every object pkcs11-tool lists, the two refused dates of each key marked unreadable with the CKR name', () => {
    // The token itself refuses the date, to an independent client too.
    expect(startDateAsPyKCS11Sees(name)).toBe('CKR_GENERAL_ERROR');
    // The terminal adds its own audit key pair at the end of a login: left out on both sides.
    const own = (label: string): boolean => label === 'Tessera audit key';
    const theirs = parseObjectList(pkcs11ToolObjects(name, 'PrivDates')).filter((o) => !own(o.label));
    const objects = json(name, 'PrivDates');
    expect(theirs).toHaveLength(5);
    expect(objects.filter((o) => !own(o.label)).map((o) => `${o.class} ${o.label} ${o.id}`).sort()).toEqual(theirs.map((o) => `${o.kind} ${o.label} ${o.id}`).sort());
    for (const [cls, label] of [['private-key', 'dated-rsa'], ['secret-key', 'dated-aes']] as const) {
      const o = find(objects, cls, label);
      expect(o.startDate).toBeNull();
      expect(o.endDate).toBeNull();
      expect(o.unreadable.map((u) => u.name).sort()).toEqual(['endDate', 'startDate']);
      for (const u of o.unreadable) expect(u.reason).toMatch(/the HSM returned CKR_GENERAL_ERROR/);
      expect(o.size).toBe(cls === 'private-key' ? 2048 : 256);
    }
    // The public half holds the same bytes the script wrote (20240101 / 20261231), and they read.
    const pub = find(objects, 'public-key', 'dated-rsa');
    expect([pub.startDate, pub.endDate, pub.unreadable]).toEqual(['2024-01-01', '2026-12-31', []]);
    expect(find(objects, 'private-key', 'healthy-ec').unreadable).toEqual([]);
  });

  it('the text listing marks the two keys and names what could not be read; exit 0', () => {
    const result = listing(name, 'PrivDates');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const marked = result.stdout.split('\n').filter((line) => / ! dated-/.test(line));
    expect(marked.map((line) => line.split(/\s+/)[0]).sort()).toEqual(['private-key', 'secret-key']);
    expect(result.stdout).toMatch(/^! private-key id 02: unreadable startDate \(.*CKR_GENERAL_ERROR\), endDate \(.*CKR_GENERAL_ERROR\)$/m);
    expect(result.stdout).not.toContain(PIN);
  });

  it('details and the GUI\'s HSM worker show the object with its unreadable dates, while a lost session still fails loudly', async () => {
    await inProcess(name, 'PrivDates', async (module, slot, session) => {
      const worker = new HsmWorker();
      try {
        const objects = await worker.listObjects(MODULE, slot.slot, slot);
        expect(find(objects, 'secret-key', 'dated-aes').unreadable.map((u) => u.name).sort()).toEqual(['endDate', 'startDate']);
      } finally {
        await worker.stop();
      }
      const listed = await listObjects(session, slot);
      const details = objectDetails(session, slot, find(listed, 'private-key', 'dated-rsa').uri);
      expect(details.summary.label).toBe('dated-rsa');
      expect(details.withheld.filter((w) => /date/.test(w.name))).toEqual([
        { name: 'start date', reason: 'the HSM failed to read it: the HSM returned CKR_GENERAL_ERROR' },
        { name: 'end date', reason: 'the HSM failed to read it: the HSM returned CKR_GENERAL_ERROR' },
      ]);
      expect(details.summary.size).toBe(2048);
      expect(details.attributes.find((a) => a.name === 'sign')?.value).toBe('yes');
      // Only failures of one attribute are tolerated: a session the token no longer knows ends the read.
      const gone = module.openSession(slot.slot);
      gone.close();
      expect(() => objectDetails(gone, slot, find(listed, 'private-key', 'dated-rsa').uri)).toThrow(expect.objectContaining({ code: 'TOKEN_REMOVED' }));
    });
  });
});

describe('dates that are no calendar date', () => {
  it('are shown as "not a date", never as a date; a good date beside them as YYYY-MM-DD', () => {
    // A token of our own beside case 02's, with the exact CKA_START_DATE bytes below (written by PyKCS11, unchecked by SoftHSM2).
    const name = '02-date-on-private-key';
    const conf = { ...process.env, SOFTHSM2_CONF: env(name).SOFTHSM2_CONF };
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'OddDates', '--so-pin', 'so-pin-1234', '--pin', PIN], { env: conf, stdio: 'ignore' });
    const script = `import sys; sys.path.insert(0, ${JSON.stringify(join(cases, 'lib'))})
import PyKCS11 as P
from p11raw import open_token
t = open_token('OddDates', '${PIN}')
for i, d in enumerate([b'20230231', bytes(8), b'\\x1b[31mAB!', b'20240229']):
  t.gen_key(P.CKM_AES_KEY_GEN, [(P.CKA_CLASS, P.CKO_SECRET_KEY), (P.CKA_KEY_TYPE, P.CKK_AES), (P.CKA_TOKEN, True), (P.CKA_PRIVATE, False),
    (P.CKA_LABEL, 'odd-date-%d' % i), (P.CKA_ID, bytes([0x40 + i])), (P.CKA_VALUE_LEN, 16), (P.CKA_START_DATE, d), (P.CKA_END_DATE, b'20261231')])`;
    execFileSync('/usr/bin/python3', ['-c', script], { env: conf, stdio: ['ignore', 'ignore', 'pipe'] });
    const result = tessera(['objects', '--module', MODULE, '--token', 'OddDates', '--json'], { env: env(name) });
    expect(result.status).toBe(0);
    const objects = JSON.parse(result.stdout) as ObjectSummary[];
    const dates = Object.fromEntries(objects.map((o) => [o.label, [o.startDate, o.endDate]]));
    // pkcs11js hands a CK_DATE over through atoi: zero bytes and escape codes arrive as "00000000".
    expect(dates).toEqual({
      'odd-date-0': ['not a date: "20230231"', '2026-12-31'],
      'odd-date-1': ['not a date: "00000000"', '2026-12-31'],
      'odd-date-2': ['not a date: "00000000"', '2026-12-31'],
      'odd-date-3': ['2024-02-29', '2026-12-31'],
    });
  });
});

describe('case 08: every key type and size, by key type', () => {
  const name = '08-key-zoo';
  // What the case generated (setup.sh): type, size in bits, curve.
  const zoo: [string, string, number, string | null][] = [
    ['rsa4096', 'RSA', 4096, null],
    ['rsa1024', 'RSA', 1024, null],
    ['p384', 'EC', 384, 'P-384'],
    ['p521', 'EC', 521, 'P-521'],
    ['k256', 'EC', 256, 'secp256k1'],
    ['bp256', 'EC', 256, 'brainpoolP256r1'],
    ['bp384', 'EC', 384, 'brainpoolP384r1'],
    ['bp512', 'EC', 512, 'brainpoolP512r1'],
    ['ed25519', 'EC_EDWARDS', 255, 'Ed25519'],
    ['ed25519-oid', 'EC_EDWARDS', 255, 'Ed25519'],
    ['ed448', 'EC_EDWARDS', 448, 'Ed448'],
    ['dsa1024', 'DSA', 1024, null],
  ];
  const secrets: [string, string, number][] = [
    ['hmac512', 'generic secret', 512],
    ['aes192', 'AES', 192],
    ['des', 'DES', 56],
    ['des2', 'DES2', 112],
    ['des3', '3DES', 168],
  ];

  it('shows each key pair\'s type, size and curve, both halves, as pkcs11-tool\'s EC_PARAMS and modulus say', () => {
    const objects = json(name, 'Zoo');
    const tool = pkcs11ToolObjects(name, 'Zoo');
    const params = new Map<string, string>();
    for (const block of tool.split(/\n(?=\S)/)) {
      const label = /label:\s+(\S+)/.exec(block)?.[1];
      const ec = /EC_PARAMS:\s+([0-9a-f]+)/.exec(block)?.[1];
      if (label && ec) params.set(label, ec);
    }
    // The bytes the script (and pkcs11-tool for "EC:edwards25519") wrote: OIDs, and the PrintableString "edwards25519".
    expect(params.get('ed25519')).toBe(Buffer.concat([Buffer.from([0x13, 12]), Buffer.from('edwards25519')]).toString('hex'));
    expect(params.get('ed448')).toBe('06032b6571');
    expect(params.get('ed25519-oid')).toBe('06032b6570');
    expect(tool).toMatch(/Public Key Object; RSA 4096 bits\n(?:.*\n)*?\s+label:\s+rsa4096/);
    for (const [label, keyType, size, curve] of zoo) {
      for (const cls of ['private-key', 'public-key'] as const) {
        const o = find(objects, cls, label);
        expect({ label, cls, keyType: o.keyType, size: o.size, curve: o.curve, unreadable: o.unreadable }).toEqual({ label, cls, keyType, size, curve, unreadable: [] });
      }
    }
  });

  it('shows each secret key\'s size: 512-bit generic secret, 192-bit AES, 56/112/168-bit DES family', () => {
    const objects = json(name, 'Zoo');
    const tool = pkcs11ToolObjects(name, 'Zoo');
    expect(tool).toMatch(/Secret Key Object; Generic secret length 64\n\s+label:\s+hmac512/);
    expect(tool).toMatch(/Secret Key Object; AES length 24\n\s+label:\s+aes192/);
    for (const [label, keyType, size] of secrets) {
      const o = find(objects, 'secret-key', label);
      expect({ label, keyType: o.keyType, size: o.size, curve: o.curve }).toEqual({ label, keyType, size, curve: null });
    }
  });

  it('every AES-256 key of SizeCache is 256 bits, whatever DES3 key is listed before it', () => {
    const objects = json(name, 'SizeCache');
    expect(objects.filter((o) => o.keyType === 'AES').map((o) => o.size)).toEqual(Array(8).fill(256));
    expect(objects.filter((o) => o.keyType === '3DES').map((o) => o.size)).toEqual(Array(4).fill(168));
  });

  it('details read after a DES3 key still give an AES key its size, and name Ed448 apart from Ed25519', async () => {
    await inProcess(name, 'SizeCache', async (_module, slot, session) => {
      const listed = await listObjects(session, slot);
      const des3 = listed.find((o) => o.keyType === '3DES') as ObjectSummary;
      // The order that lost the size: a DES3 key's attributes read first on the same session.
      expect(objectDetails(session, slot, des3.uri).summary.size).toBe(168);
      for (const aes of listed.filter((o) => o.keyType === 'AES')) {
        const details = objectDetails(session, slot, aes.uri);
        expect([aes.label, details.summary.size, details.attributes.find((a) => a.name === 'value length')?.value]).toEqual([aes.label, 256, '32']);
      }
    });
    await inProcess(name, 'Zoo', async (_module, slot, session) => {
      const listed = await listObjects(session, slot);
      for (const [label, curve] of [['ed448', 'Ed448'], ['ed25519', 'Ed25519'], ['ed25519-oid', 'Ed25519']]) {
        const details = objectDetails(session, slot, find(listed, 'public-key', label as string).uri);
        expect([label, details.summary.curve, details.attributes.find((a) => a.name === 'curve')?.value]).toEqual([label, curve, curve]);
      }
      const dsa = objectDetails(session, slot, find(listed, 'private-key', 'dsa1024').uri);
      expect(dsa.summary.size).toBe(1024);
    });
  });
});
