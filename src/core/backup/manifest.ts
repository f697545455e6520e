// The manifest beside a backup file: readable facts (partition, date, counts, fingerprints, the
// file's SHA-256), signed by the same backup-signing key. A manifest that disagrees with its file
// makes the backup invalid; a missing one is reported, since the file carries everything itself.
import { z } from 'zod';
import { fingerprint } from './escrow';
import type { ParsedBackup } from './format';
import { verifyData } from './signing-key';

/** The manifest's schema, built at its first use (zod's building costs every command's start otherwise). */
function buildManifestSchema() {
  return z
  .object({
    format: z.literal('tessera-backup-manifest'),
    version: z.literal(1),
    file: z.string(),
    size: z.number().int(),
    sha256: z.string(),
    backupId: z.string(),
    created: z.string(),
    partition: z.object({ label: z.string(), serial: z.string(), manufacturer: z.string(), model: z.string() }).strict(),
    objects: z.number().int(),
    excluded: z.number().int(),
    mechanisms: z.record(z.string(), z.unknown()),
    signer: z.object({ fingerprint: z.string(), id: z.string() }).strict(),
    escrow: z.string(),
    backupSet: z.object({ set: z.string(), generation: z.number().int(), descriptorHash: z.string() }).strict(),
    signature: z.string(),
  })
  .strict();
}
let manifestSchema: ReturnType<typeof buildManifestSchema> | null = null;

export type Manifest = z.infer<ReturnType<typeof buildManifestSchema>>;

export function manifestFor(backup: ParsedBackup, fileName: string): Omit<Manifest, 'signature'> {
  const h = backup.header;
  return {
    format: 'tessera-backup-manifest',
    version: 1,
    file: fileName,
    size: backup.size,
    sha256: backup.sha256,
    backupId: h.backupId,
    created: h.created,
    partition: h.partition,
    objects: h.objects,
    excluded: h.excluded,
    mechanisms: h.mechanisms,
    signer: { fingerprint: h.signer.fingerprint, id: h.signer.id },
    escrow: h.escrow.fingerprint,
    backupSet: h.backupSet,
  };
}

/** The signed bytes: the manifest without its signature, as this terminal writes it. */
export function manifestBytes(body: Omit<Manifest, 'signature'>): Buffer {
  return Buffer.from(JSON.stringify(body));
}

export function renderManifest(body: Omit<Manifest, 'signature'>, signature: Buffer): Buffer {
  return Buffer.from(`${JSON.stringify({ ...body, signature: signature.toString('base64') }, null, 2)}\n`);
}

/** null when the manifest agrees with the (already verified) backup; else what is wrong. */
export function checkManifest(text: string, backup: ParsedBackup, fileName: string): string | null {
  let parsed;
  try {
    parsed = (manifestSchema ??= buildManifestSchema()).safeParse(JSON.parse(text));
  } catch {
    return 'The manifest is not readable.';
  }
  if (!parsed.success) return 'The manifest is damaged or not one this terminal writes.';
  const { signature, ...body } = parsed.data;
  const expected = manifestFor(backup, fileName);
  const fields = Object.keys(expected) as (keyof typeof expected)[];
  // The file may have been renamed since; everything else must agree.
  const differing = fields.filter((k) => k !== 'file' && JSON.stringify(body[k]) !== JSON.stringify(expected[k]));
  if (differing.length > 0) return `The manifest disagrees with the backup file (${differing.join(', ')}).`;
  const spki = Buffer.from(backup.header.signer.publicKey, 'base64');
  if (fingerprint(spki) !== body.signer.fingerprint || !verifyData(spki, manifestBytes({ ...expected, file: body.file }), Buffer.from(signature, 'base64'))) return 'The manifest\'s signature does not match: it was altered.';
  return null;
}
