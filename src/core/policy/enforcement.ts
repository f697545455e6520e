// Who enforces the partition policy, behind one interface. A generic PKCS#11 module knows nothing of
// the vendor's partition policy: the terminal enforces it in everything the terminal itself does
// (the generic implementation here), and other applications with a session on the partition are not
// held to it. A vendor module that enforces the policy natively (e.g. a Securosys Primus partition,
// whose policy the HSM itself applies) would implement the same interface with kind 'module', and
// apply the recorded policy to the HSM; the window says which of the two is in force.
import type { PartitionPolicy, SettingName } from './policy';
import { SETTING_WORDS } from './policy';

/** What the terminal does that a policy setting may forbid. */
export type GuardedAction = 'backup' | 'restore' | 'create-key' | 'invalidate' | 'reactivate' | 'destroy';

export interface PolicyEnforcement {
  /** 'terminal': only what this terminal does is held to the policy; 'module': the HSM enforces it for everyone. */
  readonly kind: 'terminal' | 'module';
  /** One sentence for officers: who enforces the policy, and the limit. */
  readonly words: string;
  /** Why `action` is refused under `policy`, naming the setting; null when it is allowed. */
  refusal(policy: PartitionPolicy, action: GuardedAction): string | null;
}

/** Each action's rules: the setting, the value that forbids it, and what is refused, in words. */
const RULES: Record<GuardedAction, { setting: SettingName; forbids: boolean; words: string }[]> = {
  backup: [
    { setting: 'key-export', forbids: false, words: 'no backup is made (keys may not leave the partition)' },
    { setting: 'session-objects', forbids: false, words: 'no backup is made (a backup wraps keys under an ephemeral key, a session object)' },
  ],
  restore: [
    { setting: 'key-import', forbids: false, words: 'nothing is restored (keys may not be brought in)' },
    { setting: 'read-only', forbids: true, words: 'nothing is restored (nothing may be created)' },
    { setting: 'session-objects', forbids: false, words: 'nothing is restored (a restore unwraps keys under an ephemeral key, a session object)' },
  ],
  'create-key': [{ setting: 'read-only', forbids: true, words: 'no key is created' }],
  invalidate: [
    { setting: 'read-only', forbids: true, words: 'no key is invalidated (nothing may be changed)' },
    { setting: 'object-destruction', forbids: false, words: 'no key is deleted or invalidated (deletes are not allowed at all)' },
    { setting: 'key-invalidation', forbids: false, words: 'a delete would destroy the key for good: destroy it under the approvals instead' },
  ],
  reactivate: [{ setting: 'read-only', forbids: true, words: 'no key is reactivated (nothing may be changed)' }],
  destroy: [
    { setting: 'read-only', forbids: true, words: 'no key is destroyed (nothing may be deleted)' },
    { setting: 'object-destruction', forbids: false, words: 'no key is destroyed (deletes are not allowed at all)' },
  ],
};

/** The generic implementation: the terminal refuses, before anything is asked or written. */
export const terminalEnforcement: PolicyEnforcement = {
  kind: 'terminal',
  words:
    'Enforced by this terminal in everything it does. This PKCS#11 module does not enforce the policy itself: other applications with the crypto-officer PIN are not held to it.',
  refusal(policy, action) {
    for (const rule of RULES[action]) {
      if (policy.settings[rule.setting] === rule.forbids) {
        return `${SETTING_WORDS[rule.setting].title} is ${rule.forbids ? 'on' : 'off'} in the partition policy: ${rule.words}. Nothing was changed.`;
      }
    }
    return null;
  },
};
