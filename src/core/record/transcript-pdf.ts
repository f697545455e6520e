// The printable transcript: an A4 PDF of a ceremony run, printed in the room and signed by hand by
// everyone on the roster. It is a printout of the signed JSON (which stays the record): the PDF's
// hash is signed with it, and every page says so in its footer.
//
// pdfkit's built-in fonts (Helvetica, Courier) need no font files, but only cover Windows-1252
// (WinAnsi); any other character would print as garbage, so text is transliterated where it can be
// (accents dropped, ł → l) and otherwise replaced by '?', never dropped silently.
import PDFDocument from 'pdfkit';
import type { TranscriptBody, TranscriptOutcome, TranscriptStep, TranscriptStepOutcome } from '../../shared/transcript';
import { type OfficerRole, ROLE_WORDS } from '../../shared/ceremony-script';

const PRACTICE_BANNER = 'PRACTICE — NOT A PRODUCTION CEREMONY';
const RECORD_NOTE = 'The signed JSON transcript is the record; this page is its printout.';

const FONT = 'Helvetica';
const BOLD = 'Helvetica-Bold';
const MONO = 'Courier';

const MARGIN = 50;
/** Room above the text for the practice banner, and below it for the footer. */
const TOP = 95;
const BOTTOM = 70;
/** The label column of field rows: wide enough that a 64-digit hash in Courier 9 fits beside it. */
const LABEL_WIDTH = 120;

/** Outcomes in words; failures in capitals, so that they stand out on a black-and-white printout. */
const STEP_OUTCOME: Record<TranscriptStepOutcome, string> = {
  done: 'Done',
  failed: 'FAILED',
  cancelled: 'Cancelled',
  skipped: 'Skipped',
  confirmed: 'Confirmed',
  'not reached': 'Not reached',
};

const RUN_OUTCOME: Record<TranscriptOutcome, string> = {
  completed: 'Completed',
  stopped: 'STOPPED',
  failed: 'FAILED',
  cancelled: 'Cancelled',
};

/** The characters above 0x7f that WinAnsi has outside Latin-1 (pdfkit's WIN_ANSI_MAP). */
const WIN_ANSI_EXTRA = new Set('ƒ–—‘’‚“”„†‡•…€‰‹›ˆ™Œœ˜ŠšŸŽž');

/** Letters NFKD does not take apart, spelled in ASCII. */
const TRANSLITERATION: Record<string, string> = { ł: 'l', Ł: 'L', đ: 'd', Đ: 'D', ı: 'i', ħ: 'h', Ħ: 'H', ŀ: 'l', Ŀ: 'L' };

function printable(c: string): boolean {
  const code = c.codePointAt(0) ?? 0;
  return (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || WIN_ANSI_EXTRA.has(c);
}

/**
 * `text` in characters the standard PDF fonts can print: kept when WinAnsi has them, else
 * transliterated (é from e + accent stays é; Ő → O; ł → l; ﬁ → fi), else '?'. Line breaks stay;
 * other control characters become spaces.
 */
export function toWinAnsi(text: string): string {
  let out = '';
  for (const c of text.normalize('NFC')) {
    if (c === '\n') out += c;
    else if (printable(c)) out += c;
    else if ((c.codePointAt(0) ?? 0) < 0x20 || c === '\u007f') out += ' ';
    else if (TRANSLITERATION[c]) out += TRANSLITERATION[c];
    else {
      const parts = [...c.normalize('NFKD').replace(/\p{M}/gu, '')];
      out += parts.length > 0 && parts.every(printable) ? parts.join('') : '?';
    }
  }
  return out;
}

/** "2026-11-30 17:00:00 UTC" from ISO 8601; "—" for none; the text itself if it is not a date. */
export function printedTime(iso: string | null): string {
  if (iso === null) return '—';
  const time = new Date(iso);
  return Number.isNaN(time.getTime()) ? iso : `${time.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/**
 * Renders the transcript as an A4 PDF: heading facts, roster, preconditions, steps, exceptions, and a
 * signature block for everyone on the roster; "page X of Y" and the record note on every page, and the
 * PRACTICE banner on every page of a practice run. `digest` is the transcript's (transcriptDigest).
 * The creation date is the run's end and the file ID derives from it, so the same body gives the
 * same bytes; callers still hash the bytes they wrote, never a re-render.
 */
export function renderTranscriptPdf(body: TranscriptBody, digest: string): Promise<Buffer> {
  const ended = new Date(body.ended);
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: TOP, bottom: BOTTOM, left: MARGIN, right: MARGIN },
    bufferPages: true,
    pdfVersion: '1.7',
    lang: 'en',
    info: {
      Title: toWinAnsi(`${body.practice ? 'PRACTICE: ' : ''}${body.title}`),
      Subject: 'Ceremony transcript (tessera-transcript-v1)',
      Creator: 'Tessera',
      Producer: 'Tessera',
      CreationDate: Number.isNaN(ended.getTime()) ? new Date(0) : ended,
    },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  new TranscriptLayout(doc).render(body, digest);
  doc.end();
  return done;
}

/** One cell of a row: its text, its width in points (with the gap to the next), and its font. */
type Cell = [text: string, width: number, font?: string];

function fontSize(font: string): number {
  return font === MONO ? 9 : 10;
}

/** The page layout: a cursor over the document that keeps rows together on one page. */
class TranscriptLayout {
  constructor(private readonly doc: PDFKit.PDFDocument) {}

  private get width(): number {
    return this.doc.page.width - MARGIN * 2;
  }

  render(body: TranscriptBody, digest: string): void {
    const doc = this.doc;
    doc.font(BOLD).fontSize(18).text(toWinAnsi(body.title), MARGIN, TOP, { width: this.width });
    doc.font(FONT).fontSize(10).text(body.practice ? 'Ceremony transcript of a practice run' : 'Ceremony transcript', { width: this.width });
    doc.moveDown(0.8);

    this.field('Partition', `${body.partition.label} (serial ${body.partition.serial})`);
    const named = body.partition.script;
    const same = named.label === body.partition.label && named.serial === body.partition.serial;
    this.field('Script names', `${named.label} (serial ${named.serial})${same ? '' : ' — NOT the partition it ran on'}`);
    this.field('Script file', body.script.file);
    this.field('Script SHA-256', body.script.sha256, MONO);
    this.field('Transcript digest', digest, MONO);
    this.field('Terminal', `${body.terminal.installation}, workstation user ${body.terminal.workstationUser}`);
    this.field('Started', printedTime(body.started));
    this.field('Ended', printedTime(body.ended));
    this.field('Outcome', RUN_OUTCOME[body.outcome]);
    this.field('Audit log entries', `${body.audit.from} to ${body.audit.through}`);

    this.heading('Roster');
    this.row([
      ['Name', 200, BOLD],
      ['Role', this.width - 200, BOLD],
    ]);
    for (const [name, role] of rosterLines(body)) this.row([[name, 200], [role, this.width - 200]]);

    this.heading('Preconditions');
    if (body.preconditions.length === 0) this.paragraph('The script has no preconditions.');
    for (const p of body.preconditions) {
      this.row([
        [p.met ? 'Met' : 'NOT MET', 60, BOLD],
        [p.detail ? `${p.what}\n${p.detail}` : p.what, this.width - 60],
      ]);
    }

    this.heading('Steps');
    for (const step of body.steps) this.step(step);

    this.heading('Exceptions');
    if (body.exceptions.length === 0) this.paragraph('None were recorded.');
    for (const e of body.exceptions) {
      this.row([
        [`Step ${e.step}`, 50, BOLD],
        [`${printedTime(e.time)}, ${e.by}: ${e.text}\nThen: ${e.then === 'continued' ? 'the ceremony continued.' : 'the ceremony STOPPED.'}`, this.width - 50],
      ]);
    }

    this.signatures(body, digest);
    this.pageFurniture(body.practice);
  }

  private step(step: TranscriptStep): void {
    const lines = [
      `Do: ${step.do}`,
      `By: ${step.by.length > 0 ? step.by.join(', ') : '—'}`,
      `Expected: ${step.expected ?? '—'}`,
      `Outcome: ${STEP_OUTCOME[step.outcome]}`,
      `Started: ${printedTime(step.started)}    Ended: ${printedTime(step.ended)}`,
      ...step.details.map((d) => `• ${d}`),
      ...(step.cards.length > 0 ? [`Cards read: ${step.cards.map((c) => `${c.holder} (card ${c.card})`).join(', ')}`] : []),
    ];
    const title: Cell[] = [
      [`${step.n}.`, 25, BOLD],
      [step.title, this.width - 25, BOLD],
    ];
    const account: Cell[] = [
      ['', 25],
      [lines.join('\n'), this.width - 25],
    ];
    this.doc.moveDown(0.3);
    // A step's title is not left alone at the foot of a page.
    this.ensureRoom(this.rowHeight(title) + this.rowHeight(account));
    this.row(title);
    this.row(account);
  }

  private signatures(body: TranscriptBody, digest: string): void {
    this.doc.moveDown(0.5);
    this.ensureRoom(150);
    this.heading('Signatures');
    this.paragraph(`By signing, each person below confirms being present and that this printout is a true account of the ceremony (transcript digest ${digest.slice(0, 16)}…).`);
    for (const [name, role] of rosterLines(body)) {
      this.row(
        [
          [`${name}\n${role}`, 170],
          ['Signature\n\n_______________________________', 190],
          ['Date\n\n____________________', this.width - 360],
        ],
        14,
      );
    }
  }

  /** The banner and the footer on every page, now that the page count is known. */
  private pageFurniture(practice: boolean): void {
    const doc = this.doc;
    const { start, count } = doc.bufferedPageRange();
    for (let i = start; i < start + count; i++) {
      doc.switchToPage(i);
      // Writing inside the margins would otherwise make pdfkit start a new page.
      const bottom = doc.page.margins.bottom;
      doc.page.margins.bottom = 0;
      if (practice) {
        doc.lineWidth(2).rect(MARGIN, 30, this.width, 40).stroke();
        doc.font(BOLD).fontSize(16).text(PRACTICE_BANNER, MARGIN, 42, { width: this.width, align: 'center', lineBreak: false });
      }
      const y = doc.page.height - 50;
      doc.font(FONT).fontSize(8).text(RECORD_NOTE, MARGIN, y, { width: this.width - 80, lineBreak: false });
      doc.text(`page ${i - start + 1} of ${count}`, MARGIN, y, { width: this.width, align: 'right', lineBreak: false });
      doc.page.margins.bottom = bottom;
    }
  }

  private heading(text: string): void {
    this.doc.moveDown(0.8);
    this.ensureRoom(40);
    this.doc.font(BOLD).fontSize(13).text(text, MARGIN, this.doc.y, { width: this.width });
    this.doc.moveDown(0.3);
  }

  private paragraph(text: string): void {
    this.doc.font(FONT).fontSize(10).text(toWinAnsi(text), MARGIN, this.doc.y, { width: this.width });
  }

  private field(label: string, value: string, font = FONT): void {
    this.row([
      [label, LABEL_WIDTH, BOLD],
      [value, this.width - LABEL_WIDTH, font],
    ]);
  }

  private rowHeight(cells: Cell[]): number {
    return Math.max(...cells.map(([text, width, font = FONT]) => this.doc.font(font).fontSize(fontSize(font)).heightOfString(toWinAnsi(text) || ' ', { width: width - 6 })));
  }

  /** Cells side by side, kept together on one page unless taller than a page. */
  private row(cells: Cell[], gap = 3): void {
    const doc = this.doc;
    this.ensureRoom(this.rowHeight(cells));
    const top = doc.y;
    let x = MARGIN;
    let bottom = top;
    for (const [text, width, font = FONT] of cells) {
      doc.font(font).fontSize(fontSize(font)).text(toWinAnsi(text), x, top, { width: width - 6 });
      bottom = Math.max(bottom, doc.y);
      x += width;
    }
    doc.x = MARGIN;
    doc.y = bottom + gap;
  }

  /** A new page when `height` does not fit on this one (a row taller than a page flows on). */
  private ensureRoom(height: number): void {
    const doc = this.doc;
    const room = doc.page.height - doc.page.margins.bottom - doc.y;
    if (height > room && height <= doc.page.height - TOP - BOTTOM) doc.addPage();
  }
}

/** Everyone who signs, in order: the administrator, the witnesses, the officers (with their roles). */
function rosterLines(body: TranscriptBody): [name: string, role: string][] {
  return [
    [body.roster.administrator, 'Administrator'],
    ...body.roster.witnesses.map((w): [string, string] => [w, 'Witness']),
    ...body.roster.officers.map((o): [string, string] => [o.name, o.roles.length > 0 ? o.roles.map((r) => ROLE_WORDS[r as OfficerRole] ?? r).join(', ') : 'Officer']),
  ];
}
