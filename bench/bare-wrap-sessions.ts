// A second baseline for the backup benchmark: the bare C_WrapKey loop of bare-backup.ts, split over
// two sessions on two threads side by side (runs of 64 keys dealt in turn), as core's wrap loop is
// (HsmWorker.wrapKeys, WRAP_LANES). The module is initialised with OS locking (PKCS#11 v2.40 §5.4),
// as core does; the threads are plain JavaScript (`LANE`). Prints the wrap time in milliseconds as
// JSON. Run in its own process:
//   tsx bench/bare-wrap-sessions.ts <module> <softhsm2.conf> <source label> <user PIN>
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { pkcs11js } from '../tests/lab/raw-pkcs11';

const A = pkcs11js;
const LANES = 2;
const RUN = 64;
const [modulePath, softhsmConf, source, pin] = process.argv.slice(2) as [string, string, string, string];
process.env.SOFTHSM2_CONF = softhsmConf;
const p = new A.PKCS11();
p.load(modulePath);
p.C_Initialize({ flags: A.CKF_OS_LOCKING_OK });

/** Each thread: the same library (already initialised by this one: the same sessions), then its keys. */
const LANE = `
const { parentPort, workerData } = require('node:worker_threads');
const A = require(workerData.pkcs11js);
const p = new A.PKCS11();
p.load(workerData.modulePath);
try { p.C_Initialize({ flags: A.CKF_OS_LOCKING_OK }); } catch (error) { if (!/CKR_CRYPTOKI_ALREADY_INITIALIZED/.test(String(error))) throw error; }
parentPort.on('message', ({ session, kek, keys }) => {
  const s = Buffer.from(session);
  const k = Buffer.from(kek);
  for (const key of keys) Buffer.from(p.C_WrapKey(s, { mechanism: 0x210a }, k, Buffer.from(key), Buffer.alloc(4096)));
  parentPort.postMessage('done');
});
parentPort.postMessage('ready');
`;

{
  const slot = p.C_GetSlotList(true).find((s) => p.C_GetTokenInfo(s).label.trimEnd() === source);
  if (!slot) throw new Error(`no partition ${source}`);
  const open = (): Buffer => p.C_OpenSession(slot, A.CKF_SERIAL_SESSION | A.CKF_RW_SESSION);
  const first = open();
  p.C_Login(first, A.CKU_USER, pin);
  const kek = p.C_CreateObject(first, [{ type: A.CKA_CLASS, value: A.CKO_SECRET_KEY }, { type: A.CKA_KEY_TYPE, value: A.CKK_AES }, { type: A.CKA_TOKEN, value: false }, { type: A.CKA_VALUE, value: Buffer.alloc(32, 9) }, { type: A.CKA_WRAP, value: true }]);
  const keys: Buffer[] = [];
  for (const cls of [A.CKO_PRIVATE_KEY, A.CKO_SECRET_KEY]) {
    p.C_FindObjectsInit(first, [{ type: A.CKA_CLASS, value: cls }, { type: A.CKA_TOKEN, value: true }, { type: A.CKA_EXTRACTABLE, value: true }]);
    for (let batch = p.C_FindObjects(first, 512); batch.length > 0; batch = p.C_FindObjects(first, 512)) keys.push(...batch);
    p.C_FindObjectsFinal(first);
  }
  const sessions = [first, ...Array.from({ length: LANES - 1 }, open)];
  const workerData = { modulePath, pkcs11js: createRequire(import.meta.url).resolve('pkcs11js') };
  const workers = sessions.map(() => new Worker(LANE, { eval: true, workerData }));
  await Promise.all(workers.map((w) => new Promise((ready) => w.once('message', ready))));
  const start = performance.now();
  await Promise.all(
    workers.map(
      (w, lane) =>
        new Promise((done) => {
          w.once('message', done);
          w.postMessage({ session: sessions[lane], kek, keys: keys.filter((_, i) => Math.floor(i / RUN) % LANES === lane) });
        }),
    ),
  );
  const wrap = performance.now() - start;
  for (const w of workers) await w.terminate();
  p.C_Finalize();
  console.log(JSON.stringify({ keys: keys.length, wrap }));
}
