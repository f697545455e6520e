// What every benchmark starts with: the training lab up and this process pointed at it.
import { applyLabEnvironment, findLabProfile } from '../src/core/config/lab-profile';
import { Lab } from '../tests/lab/lab';

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export async function labForBench(): Promise<{ lab: Lab; modulePath: string }> {
  const lab = new Lab();
  await lab.up();
  const profile = findLabProfile();
  if (!profile) throw new Error('lab profile missing after `lab up`');
  applyLabEnvironment(profile);
  return { lab, modulePath: profile.modulePath };
}
