// `npm run lab -- <command>`: the training lab from the shell. See README "The training lab".
import { LONG_LABEL } from './seed';
import { Lab, LabError } from './lab';

const usage = `usage: npm run lab -- <command>
  up                     start the lab (idempotent): partition, pcscd + readers, keychain, media
  down                   stop every lab process (data is kept)
  reset                  everything back to new: partition, blank cards, media, keychain
  status [--json]        what the lab is and holds
  insert <holder>        put <holder>'s card into the first free reader
  remove <holder>        take <holder>'s card out
  card new <holder>      one more blank card
  card blank <holder>    make <holder>'s card blank again (it must be out of the readers)
  partition new <LABEL>  one more empty partition (printed as JSON)
  env                    shell exports that point other tools at the lab`;

async function main(argv: string[]): Promise<void> {
  const lab = new Lab();
  const [command, ...rest] = argv;
  switch (command) {
    case 'up': {
      await lab.up();
      console.log(`Lab is up in ${lab.dir}. Partition "${lab.state().tokenLabel}"; try: npm run lab -- status`);
      return;
    }
    case 'down':
      await lab.down();
      console.log('Lab is down.');
      return;
    case 'reset':
      await lab.reset();
      console.log('Lab is reset: new partition, blank cards, empty media.');
      return;
    case 'status': {
      const status = lab.status();
      if (rest.includes('--json')) console.log(JSON.stringify(status, null, 2));
      else printStatus(status);
      return;
    }
    case 'insert': {
      const card = await lab.insert(required(rest[0], 'holder'));
      console.log(`${card.holder}'s card is in "${card.reader}".`);
      return;
    }
    case 'remove':
      await lab.remove(required(rest[0], 'holder'));
      console.log(`${rest[0]}'s card is out.`);
      return;
    case 'card':
      if (rest[0] === 'new') {
        await lab.newCard(required(rest[1], 'holder'));
        console.log(`${rest[1]} has a new blank card.`);
        return;
      }
      if (rest[0] === 'blank') {
        await lab.blankCard(required(rest[1], 'holder'));
        console.log(`${rest[1]}'s card is blank again.`);
        return;
      }
      break;
    case 'partition':
      if (rest[0] !== 'new') break;
      console.log(JSON.stringify(await lab.newPartition(required(rest[1], 'label')), null, 2));
      return;
    case 'env':
      for (const [key, value] of Object.entries(lab.env())) console.log(`export ${key}='${value.replaceAll("'", "'\\''")}'`);
      return;
    default:
      break;
  }
  console.error(usage);
  process.exitCode = 2;
}

function required(value: string | undefined, what: string): string {
  if (!value) throw new LabError(`Missing ${what}.\n${usage}`);
  return value;
}

function printStatus(s: Record<string, unknown>): void {
  const status = s as { labDir: string; running: boolean; tokenLabel: string; soPin: string; userPin: string; mediaDir: string; readers: { name: string; card: string | null }[]; cards: { holder: string; inserted: boolean; reader: string | null }[] };
  console.log(`Lab ${status.running ? 'running' : 'stopped'} in ${status.labDir}`);
  console.log(`Partition "${status.tokenLabel}"  SO PIN ${status.soPin}  user PIN ${status.userPin}`);
  console.log(`Sample keys include one labelled "${LONG_LABEL}"`);
  console.log(`USB stick stand-in: ${status.mediaDir}`);
  for (const r of status.readers) console.log(`  ${r.name}: ${r.card ? `${r.card}'s card` : 'empty'}`);
  console.log(`Cards out of readers: ${status.cards.filter((c) => !c.inserted).map((c) => c.holder).join(', ') || 'none'}`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`lab: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
