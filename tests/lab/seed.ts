// Fills the lab partition with sample objects, in a child process of its own: a process may
// initialise a PKCS#11 module once, and the caller (a test, the app) may have it loaded already.
// Run directly: tsx tests/lab/seed.ts <module> <softhsm2.conf> <label> <user PIN>
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pkcs11js, withRawSession } from './raw-pkcs11';

/** Exactly 64 characters, several of them outside ASCII. */
export const LONG_LABEL = 'Schlüssel für Überweisungen – Zahlungsverkehr Zürich, Genève ÄÖÜ';

export interface SampleKey {
  label: string;
  kind: 'rsa' | 'ec' | 'aes';
  id: string;
  extractable: boolean;
}

export const SAMPLE_KEYS: SampleKey[] = [
  { label: 'Signing Key 2026', kind: 'rsa', id: '01', extractable: true },
  { label: 'Transport Key', kind: 'rsa', id: '02', extractable: true },
  { label: 'Code Signing Root', kind: 'rsa', id: '03', extractable: false },
  { label: 'TLS Server Key', kind: 'ec', id: '11', extractable: true },
  { label: 'Document Signing EC', kind: 'ec', id: '12', extractable: false },
  { label: LONG_LABEL, kind: 'ec', id: '13', extractable: true },
  { label: 'Master Key Encryption Key (MKEK)', kind: 'aes', id: '21', extractable: false },
  { label: 'Data Encryption Key', kind: 'aes', id: '22', extractable: true },
  { label: 'Backup Wrapping Key', kind: 'aes', id: '23', extractable: true },
];
export const SAMPLE_DATA_LABEL = 'Partition Notes';
export const SAMPLE_CERT_LABEL = 'Lab Root CA';

const P256 = Buffer.from('06082a8648ce3d030107', 'hex');
const here = fileURLToPath(import.meta.url);

export function seedPartition(modulePath: string, softhsmConf: string, label: string, userPin: string): void {
  execFileSync(process.execPath, [join(here, '../../../node_modules/tsx/dist/cli.mjs'), here, modulePath, softhsmConf, label, userPin], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

/** The serial of the token with this label, as softhsm2-util reports it; null when there is none. */
export function tokenSerial(softhsmConf: string, label: string): string | null {
  const out = execFileSync('softhsm2-util', ['--show-slots'], { env: { ...process.env, SOFTHSM2_CONF: softhsmConf }, encoding: 'utf8' });
  let serial: string | null = null;
  for (const line of out.split('\n')) {
    const s = /^\s+Serial number:\s*(.*)$/.exec(line);
    if (s) serial = (s[1] ?? '').trim();
    const l = /^\s+Label:\s(.*)$/.exec(line);
    if (l && (l[1] ?? '').trim() === label) return serial;
  }
  return null;
}

function seed(modulePath: string, softhsmConf: string, label: string, userPin: string): void {
  withRawSession({ modulePath, softhsmConf, label, pin: userPin, readWrite: true }, (p, session) => {
    for (const key of SAMPLE_KEYS) {
      const common = [
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_LABEL, value: Buffer.from(key.label, 'utf8') },
        { type: pkcs11js.CKA_ID, value: Buffer.from(key.id, 'hex') },
      ];
      const privateTemplate = [
        ...common,
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: key.extractable },
        { type: pkcs11js.CKA_SIGN, value: true },
      ];
      const publicTemplate = [...common, { type: pkcs11js.CKA_PRIVATE, value: false }, { type: pkcs11js.CKA_VERIFY, value: true }];
      if (key.kind === 'rsa') {
        p.C_GenerateKeyPair(
          session,
          { mechanism: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN },
          [...publicTemplate, { type: pkcs11js.CKA_MODULUS_BITS, value: 2048 }, { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) }, { type: pkcs11js.CKA_ENCRYPT, value: true }],
          [...privateTemplate, { type: pkcs11js.CKA_DECRYPT, value: true }],
        );
      } else if (key.kind === 'ec') {
        p.C_GenerateKeyPair(session, { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN }, [...publicTemplate, { type: pkcs11js.CKA_EC_PARAMS, value: P256 }], [...privateTemplate, { type: pkcs11js.CKA_DERIVE, value: true }]);
      } else {
        p.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
          ...common,
          { type: pkcs11js.CKA_PRIVATE, value: true },
          { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
          { type: pkcs11js.CKA_SENSITIVE, value: true },
          { type: pkcs11js.CKA_EXTRACTABLE, value: key.extractable },
          { type: pkcs11js.CKA_ENCRYPT, value: true },
          { type: pkcs11js.CKA_DECRYPT, value: true },
          { type: pkcs11js.CKA_WRAP, value: key.label.includes('Wrapping') },
          { type: pkcs11js.CKA_UNWRAP, value: key.label.includes('Wrapping') },
        ]);
      }
    }
    p.C_CreateObject(session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_DATA },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: false },
      { type: pkcs11js.CKA_LABEL, value: SAMPLE_DATA_LABEL },
      { type: pkcs11js.CKA_APPLICATION, value: 'tessera-lab' },
      { type: pkcs11js.CKA_VALUE, value: Buffer.from('Training partition: every key here is disposable.') },
    ]);
  });
  writeCertificate(modulePath, softhsmConf, label, userPin);
}

/** A self-signed X.509 certificate, made by openssl and written by OpenSC's pkcs11-tool. */
function writeCertificate(modulePath: string, softhsmConf: string, label: string, userPin: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-lab-cert-'));
  try {
    const der = join(dir, 'ca.der');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'ca.key'), '-subj', '/CN=Tessera Lab Root CA/O=Tessera Training', '-days', '3650', '-outform', 'DER', '-out', der], { stdio: 'ignore' });
    execFileSync('pkcs11-tool', ['--module', modulePath, '--token-label', label, '--login', '--pin', userPin, '--write-object', der, '--type', 'cert', '--label', SAMPLE_CERT_LABEL, '--id', '30'], {
      env: { ...process.env, SOFTHSM2_CONF: softhsmConf },
      stdio: 'ignore',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Adds an extractable, private AES-256 key (id `dd`) with CKA_START_DATE 20240101 and CKA_END_DATE
 * 20261231, in a child process. Once the token is loaded again (any other process), SoftHSM2 2.6
 * fails to read those dates with CKR_GENERAL_ERROR (SoftHSMv2 #655; the shared token case 02).
 */
export function addDatedKey(modulePath: string, softhsmConf: string, label: string, userPin: string, keyLabel: string): void {
  execFileSync(process.execPath, [join(here, '../../../node_modules/tsx/dist/cli.mjs'), here, modulePath, softhsmConf, label, userPin, keyLabel], { stdio: ['ignore', 'inherit', 'inherit'] });
}

/** The label of the key {@link seedDatedKey} writes. */
export const DATED_KEY_LABEL = 'Dated Payment Key';

/** {@link addDatedKey} with the label {@link DATED_KEY_LABEL}. */
export function seedDatedKey(modulePath: string, softhsmConf: string, label: string, userPin: string): void {
  addDatedKey(modulePath, softhsmConf, label, userPin, DATED_KEY_LABEL);
}

function datedKey(modulePath: string, softhsmConf: string, label: string, userPin: string, keyLabel: string): void {
  withRawSession({ modulePath, softhsmConf, label, pin: userPin, readWrite: true }, (p, session) => {
    p.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_LABEL, value: Buffer.from(keyLabel, 'utf8') },
      { type: pkcs11js.CKA_ID, value: Buffer.from('dd', 'hex') },
      { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: true },
      { type: pkcs11js.CKA_ENCRYPT, value: true },
      { type: pkcs11js.CKA_DECRYPT, value: true },
      { type: pkcs11js.CKA_START_DATE, value: Buffer.from('20240101') },
      { type: pkcs11js.CKA_END_DATE, value: Buffer.from('20261231') },
    ]);
  });
}

if (process.argv[1] === here) {
  const [modulePath, softhsmConf, label, userPin, datedLabel] = process.argv.slice(2) as [string, string, string, string, string | undefined];
  if (datedLabel === undefined) seed(modulePath, softhsmConf, label, userPin);
  else datedKey(modulePath, softhsmConf, label, userPin, datedLabel);
}
