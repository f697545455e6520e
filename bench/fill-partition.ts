// Fills a partition with N token objects for the inventory benchmark: AES-256 keys, EC P-256 key
// pairs and data objects, in the proportions 4:2(x2):2. Run in its own process:
//   tsx bench/fill-partition.ts <module> <softhsm2.conf> <label> <user PIN> <N>
import { pkcs11js, withRawSession } from '../tests/lab/raw-pkcs11';

const [modulePath, softhsmConf, label, pin, count] = process.argv.slice(2) as [string, string, string, string, string];
withRawSession({ modulePath, softhsmConf, label, pin, readWrite: true }, (p, session) => {
  const total = Number(count);
  const id = (n: number): Buffer => Buffer.from(n.toString(16).padStart(8, '0'), 'hex');
  let made = 0;
  for (let n = 0; made < total; n++) {
    const common = [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_LABEL, value: `bench object ${n}` },
      { type: pkcs11js.CKA_ID, value: id(n) },
    ];
    const kind = n % 4;
    if (kind <= 1) {
      p.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [...common, { type: pkcs11js.CKA_VALUE_LEN, value: 32 }, { type: pkcs11js.CKA_EXTRACTABLE, value: n % 8 !== 0 }, { type: pkcs11js.CKA_SENSITIVE, value: true }]);
      made += 1;
    } else if (kind === 2 && made + 2 <= total) {
      p.C_GenerateKeyPair(session, { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN }, [...common, { type: pkcs11js.CKA_EC_PARAMS, value: Buffer.from('06082a8648ce3d030107', 'hex') }], [...common, { type: pkcs11js.CKA_SENSITIVE, value: true }, { type: pkcs11js.CKA_SIGN, value: true }]);
      made += 2;
    } else {
      p.C_CreateObject(session, [...common.slice(0, 2), { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_DATA }, { type: pkcs11js.CKA_PRIVATE, value: true }, { type: pkcs11js.CKA_APPLICATION, value: 'bench' }, { type: pkcs11js.CKA_VALUE, value: Buffer.from('x') }]);
      made += 1;
    }
  }
});
