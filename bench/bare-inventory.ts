// The baseline: a bare pkcs11js loop that reads the same information the inventory shows, with the
// same calls (find all; class; key type; one template per class; the two dates), and no decoding.
// Prints the listing times in milliseconds as JSON. Run in its own process (a process may
// initialise a PKCS#11 module once):
//   tsx bench/bare-inventory.ts <module> <softhsm2.conf> <label> <user PIN> <runs>
import { pkcs11js, withRawSession } from '../tests/lab/raw-pkcs11';

const [modulePath, softhsmConf, label, pin, runs] = process.argv.slice(2) as [string, string, string, string, string];
// No stack traces for the binding's exceptions on empty dates: the baseline measures PKCS#11 calls.
Error.stackTraceLimit = 0;
const A = pkcs11js;
const common = [A.CKA_CLASS, A.CKA_TOKEN, A.CKA_PRIVATE, A.CKA_LABEL, A.CKA_MODIFIABLE, A.CKA_COPYABLE, A.CKA_DESTROYABLE];
const key = [A.CKA_KEY_TYPE, A.CKA_ID, A.CKA_DERIVE, A.CKA_LOCAL, A.CKA_KEY_GEN_MECHANISM];
const protection = [A.CKA_SENSITIVE, A.CKA_EXTRACTABLE, A.CKA_ALWAYS_SENSITIVE, A.CKA_NEVER_EXTRACTABLE, A.CKA_WRAP_WITH_TRUSTED];
const templates: Record<number, number[]> = {
  [A.CKO_PRIVATE_KEY]: [...common, ...key, A.CKA_DECRYPT, A.CKA_SIGN, A.CKA_SIGN_RECOVER, A.CKA_UNWRAP, ...protection, A.CKA_EC_PARAMS],
  [A.CKO_PUBLIC_KEY]: [...common, ...key, A.CKA_ENCRYPT, A.CKA_VERIFY, A.CKA_VERIFY_RECOVER, A.CKA_WRAP, A.CKA_TRUSTED, A.CKA_EC_PARAMS],
  [A.CKO_SECRET_KEY]: [...common, ...key, A.CKA_DECRYPT, A.CKA_SIGN, A.CKA_UNWRAP, A.CKA_ENCRYPT, A.CKA_VERIFY, A.CKA_WRAP, ...protection, A.CKA_TRUSTED, A.CKA_CHECK_VALUE, A.CKA_VALUE_LEN],
  [A.CKO_DATA]: [...common, A.CKA_APPLICATION],
};
withRawSession({ modulePath, softhsmConf, label, pin }, (p, session) => {
  const times: number[] = [];
  let objects = 0;
  for (let run = 0; run < Number(runs); run++) {
    const start = performance.now();
    p.C_FindObjectsInit(session, []);
    const handles: Buffer[] = [];
    for (let batch = p.C_FindObjects(session, 512); batch.length > 0; batch = p.C_FindObjects(session, 512)) handles.push(...batch);
    p.C_FindObjectsFinal(session);
    for (const h of handles) {
      const cls = p.C_GetAttributeValue(session, h, [{ type: A.CKA_CLASS }])[0]?.value as Buffer;
      const objectClass = Number(cls.readBigUInt64LE());
      if (objectClass !== A.CKO_DATA) p.C_GetAttributeValue(session, h, [{ type: A.CKA_KEY_TYPE }]);
      p.C_GetAttributeValue(session, h, (templates[objectClass] ?? common).map((type) => ({ type })));
      if (objectClass === A.CKO_DATA) continue;
      for (const date of [A.CKA_START_DATE, A.CKA_END_DATE]) {
        try {
          p.C_GetAttributeValue(session, h, [{ type: date }]);
        } catch {
          // empty date: the binding throws, as in core
        }
      }
    }
    times.push(performance.now() - start);
    objects = handles.length;
  }
  console.log(JSON.stringify({ objects, times }));
});
