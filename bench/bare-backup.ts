// The baseline for the backup benchmark: bare pkcs11js loops of C_WrapKey over every key of the
// partition (AES key wrap with padding under a session key), then, given a target, C_UnwrapKey of
// all of them into that fresh partition as token objects. Prints the times in milliseconds as JSON
// (`unwrap` is 0 without a target). Run in its own process:
//   tsx bench/bare-backup.ts <module> <softhsm2.conf> <source label> <user PIN> [target label]
import { pkcs11js } from '../tests/lab/raw-pkcs11';

const [modulePath, softhsmConf, source, pin, target] = process.argv.slice(2) as [string, string, string, string, string | undefined];
const A = pkcs11js;
process.env.SOFTHSM2_CONF = softhsmConf;
const p = new A.PKCS11();
p.load(modulePath);
p.C_Initialize();
try {
  const open = (label: string): Buffer => {
    const slot = p.C_GetSlotList(true).find((s) => p.C_GetTokenInfo(s).label.trimEnd() === label);
    if (!slot) throw new Error(`no partition ${label}`);
    const session = p.C_OpenSession(slot, A.CKF_SERIAL_SESSION | A.CKF_RW_SESSION);
    p.C_Login(session, A.CKU_USER, pin);
    return session;
  };
  const kekValue = Buffer.alloc(32, 9);
  const kek = (s: Buffer): Buffer => p.C_CreateObject(s, [{ type: A.CKA_CLASS, value: A.CKO_SECRET_KEY }, { type: A.CKA_KEY_TYPE, value: A.CKK_AES }, { type: A.CKA_TOKEN, value: false }, { type: A.CKA_VALUE, value: kekValue }, { type: A.CKA_WRAP, value: true }, { type: A.CKA_UNWRAP, value: true }]);
  const src = open(source);
  const srcKek = kek(src);
  const keys: { handle: Buffer; cls: number; type: number }[] = [];
  for (const cls of [A.CKO_PRIVATE_KEY, A.CKO_SECRET_KEY]) {
    p.C_FindObjectsInit(src, [{ type: A.CKA_CLASS, value: cls }, { type: A.CKA_TOKEN, value: true }, { type: A.CKA_EXTRACTABLE, value: true }]);
    for (let batch = p.C_FindObjects(src, 512); batch.length > 0; batch = p.C_FindObjects(src, 512)) for (const handle of batch) keys.push({ handle, cls, type: Number((p.C_GetAttributeValue(src, handle, [{ type: A.CKA_KEY_TYPE }])[0]?.value as Buffer).readBigUInt64LE()) });
    p.C_FindObjectsFinal(src);
  }
  let start = performance.now();
  const wrapped = keys.map((k) => ({ ...k, blob: Buffer.from(p.C_WrapKey(src, { mechanism: 0x210a }, srcKek, k.handle, Buffer.alloc(4096))) }));
  const wrap = performance.now() - start;
  let unwrap = 0;
  if (target !== undefined) {
    const dst = open(target);
    const dstKek = kek(dst);
    start = performance.now();
    wrapped.forEach((k, i) => p.C_UnwrapKey(dst, { mechanism: 0x210a }, dstKek, k.blob, [{ type: A.CKA_CLASS, value: k.cls }, { type: A.CKA_KEY_TYPE, value: k.type }, { type: A.CKA_TOKEN, value: true }, { type: A.CKA_PRIVATE, value: true }, { type: A.CKA_ID, value: Buffer.from(String(i)) }]));
    unwrap = performance.now() - start;
  }
  console.log(JSON.stringify({ keys: keys.length, wrap, unwrap }));
} finally {
  p.C_Finalize();
  p.close();
}
