// What a backup leaves out when the HSM will not read some attributes of a key (SoftHSMv2 #655 and
// the like): a missing date costs only the date; a missing protection attribute costs the backup of
// that key, since a restore would otherwise have to guess how to protect it.
import { describe, expect, it } from 'vitest';
import { CKA, CKK } from '../../src/core/hsm/constants';
import { type CapturedObject, exclusion } from '../../src/core/backup/objects';

const failed = 'the HSM failed to read it: the HSM returned CKR_GENERAL_ERROR';

function aesKey(unreadable: string[], attributes = [{ type: CKA.TOKEN, name: 'token', value: true }, { type: CKA.EXTRACTABLE, name: 'extractable', value: true }]): CapturedObject {
  return { handle: Buffer.alloc(8), class: 'secret-key', label: 'k', id: 'dd', keyType: CKK.AES, attributes, unreadable } as CapturedObject;
}

describe('exclusion of a key with attributes the HSM will not read', () => {
  it('backs up a key whose dates are unreadable (they only go missing)', () => {
    expect(exclusion(aesKey([`CKA_START_DATE (start date): ${failed}`, `CKA_END_DATE (end date): ${failed}`]), { signingKeyId: null })).toBeNull();
  });

  it('leaves out a key whose protection is unreadable, naming the attribute and the CK_RV', () => {
    const reason = exclusion(aesKey([`CKA_SENSITIVE (sensitive): ${failed}`]), { signingKeyId: null });
    expect(reason).toMatch(/^The HSM would not read how this object is protected/);
    expect(reason).toContain('CKA_SENSITIVE (sensitive): the HSM failed to read it: the HSM returned CKR_GENERAL_ERROR');
    const extractable = exclusion(aesKey([`CKA_EXTRACTABLE (extractable): ${failed}`], [{ type: CKA.TOKEN, name: 'token', value: true }]), { signingKeyId: null });
    expect(extractable).toContain('CKA_EXTRACTABLE (extractable)');
  });
});
