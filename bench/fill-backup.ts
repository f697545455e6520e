// Fills a partition for the backup benchmark: N RSA-2048, N EC P-256 and N AES-256 keys, all
// extractable, private halves only (public halves are destroyed, so core and the bare loop handle
// the same keys). RSA generation is slow, so one key is generated and the rest are copies made by
// wrapping and unwrapping it under a session key. Run in its own process:
//   tsx bench/fill-backup.ts <module> <softhsm2.conf> <label> <user PIN> <N>
import { pkcs11js, withRawSession } from '../tests/lab/raw-pkcs11';

const [modulePath, softhsmConf, label, pin, count] = process.argv.slice(2) as [string, string, string, string, string];
const A = pkcs11js;
withRawSession({ modulePath, softhsmConf, label, pin, readWrite: true }, (p, s) => {
  const n = Number(count);
  const common = (kind: string, i: number): pkcs11js.Template => [
    { type: A.CKA_TOKEN, value: true },
    { type: A.CKA_LABEL, value: `bench ${kind} ${i}` },
    { type: A.CKA_ID, value: Buffer.from(`${kind}${i.toString(16).padStart(6, '0')}`, 'latin1') },
  ];
  const secret = [{ type: A.CKA_PRIVATE, value: true }, { type: A.CKA_SENSITIVE, value: true }, { type: A.CKA_EXTRACTABLE, value: true }, { type: A.CKA_SIGN, value: true }];
  const kek = p.C_GenerateKey(s, { mechanism: A.CKM_AES_KEY_GEN }, [{ type: A.CKA_TOKEN, value: false }, { type: A.CKA_VALUE_LEN, value: 32 }, { type: A.CKA_WRAP, value: true }, { type: A.CKA_UNWRAP, value: true }]);
  const rsa = p.C_GenerateKeyPair(s, { mechanism: A.CKM_RSA_PKCS_KEY_PAIR_GEN }, [{ type: A.CKA_TOKEN, value: false }, { type: A.CKA_MODULUS_BITS, value: 2048 }, { type: A.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) }], [...common('rsa', 0), ...secret]);
  const wrapped = p.C_WrapKey(s, { mechanism: 0x210a }, kek, rsa.privateKey, Buffer.alloc(4096));
  for (let i = 1; i < n; i++) p.C_UnwrapKey(s, { mechanism: 0x210a }, kek, wrapped, [{ type: A.CKA_CLASS, value: A.CKO_PRIVATE_KEY }, { type: A.CKA_KEY_TYPE, value: A.CKK_RSA }, ...common('rsa', i), ...secret]);
  for (let i = 0; i < n; i++) {
    p.C_GenerateKeyPair(s, { mechanism: A.CKM_EC_KEY_PAIR_GEN }, [{ type: A.CKA_TOKEN, value: false }, { type: A.CKA_EC_PARAMS, value: Buffer.from('06082a8648ce3d030107', 'hex') }], [...common('ec', i), ...secret]);
    p.C_GenerateKey(s, { mechanism: A.CKM_AES_KEY_GEN }, [...common('aes', i), { type: A.CKA_VALUE_LEN, value: 32 }, { type: A.CKA_PRIVATE, value: true }, { type: A.CKA_SENSITIVE, value: true }, { type: A.CKA_EXTRACTABLE, value: true }, { type: A.CKA_ENCRYPT, value: true }]);
  }
});
