// Backup: the partition's backup key set, the media (mounted removable drives, or the lab's
// stand-in), backing up to the chosen one, and the backups on it, verified without cards, each of
// which can be restored into the partition chosen now (the same one, or a fresh one).
import { useEffect } from 'react';
import { formatBytes, formatCount, formatDateTime } from '../format';
import { usePolicy } from '../stores/policy';
import type { BackupFileView } from '../../shared/types';
import { ErrorMessage } from '../components/ErrorMessage';
import { HoldersForm } from '../components/HoldersForm';
import { useBackup } from '../stores/backup';
import { ceremonyKinds, loginProblem } from '../../shared/ceremonies';
import { usePartition } from '../stores/partition';
import { useQuorum } from '../stores/quorum';
import { CeremonyPanel } from './CeremonyPanel';


function BackupSet(): React.JSX.Element {
  const backupSet = useBackup((s) => s.set);
  const start = useQuorum((s) => s.start);
  const view = usePartition((s) => s.view);
  if (!backupSet) {
    return (
      <HoldersForm
        id="backup-set"
        title="Create the backup key set"
        intro="Once per partition: the terminal generates a backup-signing key in the partition and an escrow key whose private half is split onto the holders' cards (officer cards keep their PIN; blank cards get one). Backups are then made without cards; reading or restoring one needs the chosen number of these cards."
        thresholdLabel="Cards needed to restore"
        submitLabel="Create the backup key set"
        unavailable={loginProblem('backup-set', { cryptoOfficer: view?.token.loggedIn ?? false, securityOfficer: false })}
        onSubmit={(holders, threshold) => void start({ kind: 'backup-set', holders, threshold })}
      />
    );
  }
  return (
    <section className="panel" aria-labelledby="backup-set-title">
      <h2 id="backup-set-title">Backup key set</h2>
      <p>
        Any {backupSet.m} of {backupSet.n} cards ({backupSet.holders.join(', ')}) read and restore this partition's backups. Fingerprint <span className="mono">{backupSet.fingerprint}</span> (compare it with the set's enrolment record).
      </p>
    </section>
  );
}

function Media(): React.JSX.Element {
  const { media, chosen, choose, load } = useBackup();
  const backupSet = useBackup((s) => s.set);
  const start = useQuorum((s) => s.start);
  const selected = media.find((m) => m.path === chosen);
  const loggedIn = usePartition((s) => s.view?.token.loggedIn ?? false);
  const refused = usePolicy((s) => s.view?.refuses.backup ?? null);
  // Why the backup button is disabled, said beside it (and read out with it).
  const why = !loggedIn
    ? loginProblem('backup', { cryptoOfficer: false, securityOfficer: false })
    : !backupSet
      ? 'Backing up needs the backup key set: create it first (above).'
      : refused
        ? refused.replace(/ Nothing was changed\.$/, '')
        : media.length === 0
          ? 'No USB stick to back up to: insert one, then look for media again.'
          : !selected
            ? 'Choose a USB stick first.'
            : null;
  return (
    <section className="panel" aria-labelledby="media-title">
      <h2 id="media-title">USB media</h2>
      {media.length === 0 ? <p role="status">No removable drive is mounted. Insert the USB stick, then look again.</p> : null}
      <fieldset className="media">
        <legend>Media</legend>
        <ul className="media" aria-label="Media">
          {media.map((m) => (
            <li key={m.path}>
              <label>
                <input type="radio" name="media" checked={m.path === chosen} onChange={() => void choose(m.path)} />
                <span>
                  <strong>{m.label}</strong>
                  {m.device ? <span className="muted"> · device {m.device}</span> : null}
                  <span> · {formatBytes(m.free)} free of {formatBytes(m.size)}</span>
                  <br />
                  <span className="muted mono">{m.path}</span>
                </span>
              </label>
            </li>
          ))}
        </ul>
      </fieldset>
      <div className="row">
        <button type="button" onClick={() => void load()}>
          Look for media again
        </button>
        <button type="button" className="primary" disabled={why !== null} aria-describedby={why ? 'backup-why' : undefined} onClick={() => selected && void start({ kind: 'backup', media: selected.path })}>
          {selected ? `Back up to ${selected.label}` : 'Back up'}
        </button>
      </div>
      {why ? (
        <p id="backup-why" className="muted">
          {why}
        </p>
      ) : null}
    </section>
  );
}

function FileRow({ file, media, refused }: { file: BackupFileView; media: string; refused: string | null }): React.JSX.Element {
  const start = useQuorum((s) => s.start);
  const v = file.verification;
  const b = v.backup;
  return (
    <tr>
      <td className="mono wrap-anywhere">{file.name}</td>
      <td>{b ? `“${b.partition.label}” (serial ${b.partition.serial})` : '—'}</td>
      <td className="nowrap">{b ? formatDateTime(b.created) : '—'}</td>
      <td className="num">{b ? formatCount(b.objects) : '—'}</td>
      <td>
        {v.valid ? `Valid (signature, every byte${v.manifest === 'agrees' ? ', manifest' : '; no manifest'})${file.catalogued ? '; written by this terminal' : ''}` : `INVALID: ${v.problem}`}
        {v.valid && b ? (
          <>
            <br />
            {file.ownSet === true
              ? "Made with this partition's backup set."
              : `Made with ${file.ownSet === false ? 'another backup set' : 'a backup set this partition does not have'}: restoring it needs the fingerprint from that set's enrolment record (from the safe) and, if this partition has an SO card set, the approval of its SO quorum.`}
          </>
        ) : null}
      </td>
      <td>
        <button type="button" aria-label={`Restore ${file.name}`} disabled={!v.valid || refused !== null} title={!v.valid ? 'This file did not verify: it cannot be restored.' : (refused ?? undefined)} onClick={() => void start({ kind: 'restore', file: `${media}/${file.name}`, onConflict: 'ask' })}>
          Restore…
        </button>
      </td>
    </tr>
  );
}

function Backups(): React.JSX.Element | null {
  const { files, chosen } = useBackup();
  const refused = usePolicy((s) => s.view?.refuses.restore ?? null);
  if (!chosen) return null;
  return (
    <section className="panel" aria-labelledby="files-title">
      <h2 id="files-title">Backups on this medium</h2>
      {refused && files.length > 0 ? (
        <p className="muted" id="restore-refused">
          Restoring is off: {refused.replace(/ Nothing was changed\.$/, '')}
        </p>
      ) : null}
      {files.length === 0 ? (
        <p>No Tessera backup is on it.</p>
      ) : (
        <table className="plain" aria-label="Backups on the medium">
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col">Partition</th>
              <th scope="col">Made</th>
              <th scope="col">Objects</th>
              <th scope="col">Checked without cards</th>
              <th scope="col">Restore into this partition</th>
            </tr>
          </thead>
          <tbody>
            {files.map((f) => (
              <FileRow key={f.name} file={f} media={chosen} refused={refused} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function BackupPanel(): React.JSX.Element {
  const { ceremony, error: ceremonyError } = useQuorum();
  const { error, load } = useBackup();
  const loadPolicy = usePolicy((s) => s.load);
  const view = usePartition((s) => s.view);
  const partitionKey = view ? `${view.token.serial}:${view.token.loggedIn}` : null;
  const ended = ceremony ? ['done', 'failed', 'cancelled'].includes(ceremony.prompt.kind) : true;
  useEffect(() => {
    if (partitionKey && ended) {
      void load();
      void loadPolicy();
    }
  }, [partitionKey, ended, load, loadPolicy]);
  return (
    <section aria-labelledby="backup-title">
      <h1 id="backup-title">Backup and restore</h1>
      {!view ? <p>Choose a partition first (Partition).</p> : null}
      {view && !view.token.loggedIn ? <p role="status">Log in as crypto officer (Partition) to back up, restore or create the backup key set: they read and write the partition's private objects.</p> : null}
      {error ? <ErrorMessage error={error} /> : null}
      {ceremonyError && !ceremony ? <ErrorMessage error={ceremonyError} /> : null}
      {ceremony && ceremonyKinds[ceremony.kind].section === 'backup' ? (
        <CeremonyPanel view={ceremony} />
      ) : view ? (
        <>
          <BackupSet />
          <Media />
          <Backups />
        </>
      ) : null}
    </section>
  );
}
