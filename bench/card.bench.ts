// Benchmark (not a test): what reading one officer card costs when nobody waits for a human (the
// APDUs, the KDF, the unseal), and a whole 3-card SO login, against the KDF alone and the bare
// APDU exchanges, with the KDF parameters in use. Target: under 1 s per card on these machines.
//   npm run bench:cards
import { scrypt } from 'node:crypto';
import { OfficerCard } from '../src/core/cards/officer-card';
import { openShare, parseRecord } from '../src/core/quorum/card-record';
import { DEFAULT_KDF } from '../src/core/quorum/seal';
import { wipe } from '../src/core/secrets';
import { Terminal } from '../src/core/terminal';
import { adoptAnswers, blankCards, pin, removeAll, runCeremony } from '../tests/integration/ceremony-driver';
import { tempHome } from '../tests/integration/support';
import { labForBench, median } from './lab-bench';

const RUNS = 5;
const cardPin = (i: number): string => `bench-pin-${i}${i}${i}`;
const ms = (x: number): string => `${x.toFixed(0)} ms`;

async function main(): Promise<void> {
  const { lab, modulePath } = await labForBench();
  const terminal = await Terminal.open({ home: tempHome(), frontEnd: 'cli' });
  try {
    await terminal.readers.start();
    const created = await lab.newPartition(`Bench cards ${Date.now().toString(36)}`);
    await terminal.partition.select(modulePath, created.serial);
    const cards = await blankCards('bench', 3);
    const adopted = await runCeremony(terminal, { kind: 'adopt', holders: cards, threshold: 3 }, adoptAnswers(cards, created.soPin, cardPin));
    if (adopted.prompt.kind !== 'done') throw new Error(`adoption failed: ${adopted.prompt.text}`);

    // The KDF alone, as a baseline.
    const kdf: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const start = performance.now();
      await new Promise<void>((resolve, reject) => scrypt('x'.repeat(12), 'salt-salt-salt-s', 32, { N: DEFAULT_KDF.N, r: DEFAULT_KDF.r, p: DEFAULT_KDF.p, maxmem: 512 << 20 }, (e, key) => (e ? reject(e) : (wipe(key), resolve()))));
      kdf.push(performance.now() - start);
    }

    // One card, already in a reader: connect, identify, VERIFY, open and check the share.
    await removeAll(terminal);
    for (const card of cards) await lab.insert(card);
    await new Promise((r) => setTimeout(r, 500));
    const perCard: number[] = [];
    const apdus: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      for (const [i, card] of cards.entries()) {
        const reader = lab.state().cards.find((c) => c.holder === card)?.reader as string;
        const start = performance.now();
        const session = await terminal.readers.connect(reader);
        try {
          const officer = new OfficerCard(session);
          await officer.serial();
          const record = parseRecord(await officer.readSlot('so'));
          const read = performance.now();
          if (!record) throw new Error('no record');
          const opened = await openShare(officer, record, Buffer.from(cardPin(i + 1)), 'so');
          if (!('share' in opened)) throw new Error('share did not open');
          wipe(opened.share);
          perCard.push(performance.now() - start);
          apdus.push(read - start);
        } finally {
          await session.close();
        }
      }
    }

    // The whole login, the three cards in three readers and the PINs typed at once.
    const logins: number[] = [];
    for (let run = 0; run < 3; run++) {
      await removeAll(terminal);
      for (const card of cards) await lab.insert(card);
      await new Promise((r) => setTimeout(r, 500));
      const start = performance.now();
      terminal.ceremonies.start({ kind: 'so-login' });
      const ceremony = terminal.ceremonies.running();
      let answered = 0;
      while (!ceremony?.done) {
        const view = ceremony?.snapshot();
        if (view?.prompt.kind === 'enter-pin' && view.prompt.seq > answered) {
          answered = view.prompt.seq;
          terminal.ceremonies.provide(view.id, pin(cardPin(Number(/-(\d+)$/.exec(view.prompt.holder ?? '')?.[1]))));
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      logins.push(performance.now() - start);
      if (ceremony.snapshot().prompt.kind !== 'done') throw new Error(`login failed: ${ceremony.snapshot().prompt.text}`);
      await terminal.so.end('logout');
    }
    await removeAll(terminal);

    const card = median(perCard);
    console.log(`\nKDF: scrypt N=2^${Math.log2(DEFAULT_KDF.N)} r=${DEFAULT_KDF.r} p=${DEFAULT_KDF.p} (${(128 * DEFAULT_KDF.N * DEFAULT_KDF.r) / (1 << 20)} MiB), medians of ${RUNS} runs`);
    console.log(`  KDF alone                         ${ms(median(kdf))}`);
    console.log(`  card identify (APDUs only)        ${ms(median(apdus))}`);
    console.log(`  one card: APDUs + KDF + unseal    ${ms(card)}   (target < 1000 ms)`);
    console.log(`  ratio card / KDF alone            ${(card / median(kdf)).toFixed(2)}x`);
    console.log(`  whole 3-card SO login             ${ms(median(logins))}   (${(median(logins) / 3).toFixed(0)} ms a card)`);
  } finally {
    await terminal.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
