// Proves restored keys are the originals, with nothing but pkcs11js: every private key in the
// restored partition signs and the original partition's public key verifies; every AES key
// encrypts and the original key decrypts. In a child process of its own (one C_Initialize each).
// Run directly: tsx tests/lab/key-proof.ts <module> <softhsm2.conf> <source label> <restored label> <user PIN>
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pkcs11js } from './raw-pkcs11';

const here = fileURLToPath(import.meta.url);

export type Proof = Record<string, 'signature verified' | 'decrypted' | string>;

export function proveKeys(modulePath: string, softhsmConf: string, source: string, restored: string, pin: string): Proof {
  const out = execFileSync(process.execPath, [join(here, '../../../node_modules/tsx/dist/cli.mjs'), here, modulePath, softhsmConf, source, restored, pin], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out) as Proof;
}

function prove(modulePath: string, softhsmConf: string, source: string, restored: string, pin: string): Proof {
  process.env.SOFTHSM2_CONF = softhsmConf;
  const p = new pkcs11js.PKCS11();
  p.load(modulePath);
  p.C_Initialize();
  const open = (label: string): Buffer => {
    const slot = p.C_GetSlotList(true).find((s) => p.C_GetTokenInfo(s).label.trimEnd() === label);
    if (!slot) throw new Error(`no partition ${label}`);
    const session = p.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    p.C_Login(session, pkcs11js.CKU_USER, pin);
    return session;
  };
  const find = (session: Buffer, template: pkcs11js.Template): Buffer[] => {
    p.C_FindObjectsInit(session, template);
    const found = p.C_FindObjects(session, 1000);
    p.C_FindObjectsFinal(session);
    return found;
  };
  const attr = (session: Buffer, h: Buffer, type: number): Buffer => p.C_GetAttributeValue(session, h, [{ type }])[0]?.value as Buffer;
  const proof: Proof = {};
  try {
    const src = open(source);
    const dst = open(restored);
    for (const key of find(dst, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }])) {
      // The partition's own audit key is made when a crypto-officer session on it ends; it is never restored.
      if (attr(dst, key, pkcs11js.CKA_LABEL).toString('utf8') === 'Tessera audit key') continue;
      const id = attr(dst, key, pkcs11js.CKA_ID);
      const rsa = attr(dst, key, pkcs11js.CKA_KEY_TYPE).readUInt32LE(0) === pkcs11js.CKK_RSA;
      const original = find(src, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY }, { type: pkcs11js.CKA_ID, value: id }])[0];
      if (!original) {
        proof[id.toString('hex')] = 'no original public key';
        continue;
      }
      const data = randomBytes(64);
      const mechanism = rsa ? { mechanism: pkcs11js.CKM_SHA256_RSA_PKCS } : { mechanism: pkcs11js.CKM_ECDSA };
      const input = rsa ? data : createHash('sha256').update(data).digest();
      p.C_SignInit(dst, mechanism, key);
      const signature = p.C_Sign(dst, input, Buffer.alloc(1024));
      p.C_VerifyInit(src, mechanism, original);
      proof[id.toString('hex')] = p.C_Verify(src, input, signature) ? 'signature verified' : 'signature REJECTED';
    }
    for (const key of find(dst, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY }, { type: pkcs11js.CKA_TOKEN, value: true }])) {
      const id = attr(dst, key, pkcs11js.CKA_ID);
      const original = find(src, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY }, { type: pkcs11js.CKA_ID, value: id }])[0];
      if (!original) {
        proof[id.toString('hex')] = 'no original key';
        continue;
      }
      const iv = randomBytes(16);
      const data = randomBytes(48);
      p.C_EncryptInit(dst, { mechanism: pkcs11js.CKM_AES_CBC_PAD, parameter: iv }, key);
      const encrypted = p.C_Encrypt(dst, data, Buffer.alloc(128));
      p.C_DecryptInit(src, { mechanism: pkcs11js.CKM_AES_CBC_PAD, parameter: iv }, original);
      proof[id.toString('hex')] = p.C_Decrypt(src, encrypted, Buffer.alloc(128)).equals(data) ? 'decrypted' : 'decryption DIFFERS';
    }
  } finally {
    p.C_Finalize();
    p.close();
  }
  return proof;
}

if (process.argv[1] === here) {
  const [modulePath, softhsmConf, source, restored, pin] = process.argv.slice(2) as [string, string, string, string, string];
  process.stdout.write(JSON.stringify(prove(modulePath, softhsmConf, source, restored, pin)));
}
