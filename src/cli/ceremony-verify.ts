// The text `ceremony verify FILE [--signer FINGERPRINT]` prints for a transcript; the check itself is
// core's verifyTranscriptFile (offline: no terminal, database or partition needed).
import type { TranscriptVerification } from '../shared/transcript';

/** The verification in officers' words: the verdict first, then what the transcript says and who signed it. */
export function formatTranscriptVerification(v: TranscriptVerification): string {
  const lines = [v.valid ? 'The transcript is valid: it is the one the partition signed.' : `THE TRANSCRIPT IS NOT VALID: ${v.problem ?? 'unknown problem'}`];
  if (v.practice) lines.push('PRACTICE run: not a production ceremony.');
  if (v.title !== null) lines.push(`Ceremony: ${v.title}${v.outcome ? ` (${v.outcome})` : ''}`);
  if (v.partition) lines.push(`Partition: “${v.partition.label}” (serial ${v.partition.serial})`);
  if (v.digest) lines.push(`Transcript digest: ${v.digest}`);
  if (v.valid && v.signer) {
    lines.push(
      v.signerChecked
        ? `Signed by the audit key you gave (${v.signer}).`
        : `The signature is valid, but the signer is unchecked: the file carries its own key, so anyone could have made it. Compare fingerprint ${v.signer} with the partition's audit key (tessera audit verify --token LABEL --json shows it as seals.partition.key), or give --signer FINGERPRINT.`,
    );
  }
  if (v.pdf === 'matches') lines.push(`PDF: ${v.pdfFile} beside it is the signed printout.`);
  if (v.pdf === 'missing') lines.push(`PDF: ${v.pdfFile} is not beside it. The JSON transcript is the record; the printout cannot be checked without it.`);
  return lines.join('\n');
}
