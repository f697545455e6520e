// A bare pkcs11js session for the lab's own tools (seeding partitions, the benchmark's baseline),
// in processes of their own: a process may initialise a PKCS#11 module once, and C_Finalize here
// would end any other user's sessions.
import pkcs11js from 'pkcs11js';

export { pkcs11js };

export interface RawTarget {
  modulePath: string;
  softhsmConf: string;
  label: string;
  pin: string;
  readWrite?: boolean;
}

export function withRawSession<T>(target: RawTarget, work: (p: pkcs11js.PKCS11, session: Buffer) => T): T {
  process.env.SOFTHSM2_CONF = target.softhsmConf;
  const p = new pkcs11js.PKCS11();
  p.load(target.modulePath);
  p.C_Initialize();
  try {
    const slot = p.C_GetSlotList(true).find((s) => p.C_GetTokenInfo(s).label.trimEnd() === target.label);
    if (!slot) throw new Error(`no partition labelled ${target.label}`);
    const session = p.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | (target.readWrite ? pkcs11js.CKF_RW_SESSION : 0));
    p.C_Login(session, pkcs11js.CKU_USER, target.pin);
    try {
      return work(p, session);
    } finally {
      p.C_Logout(session);
      p.C_CloseSession(session);
    }
  } finally {
    p.C_Finalize();
    p.close();
  }
}
