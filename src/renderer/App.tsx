// The shell: which partition, who is logged in, card service status, and the officers' sections.
import { useEffect } from 'react';
import { AuditAlarm } from './components/AuditAlarm';
import { ErrorBoundary } from './components/ErrorBoundary';
import { SoSessionBadge, SoSessionEnded } from './components/SoSessionBadge';
import { useAudit } from './stores/audit';
import { type Section, sectionTitles, sections, useNavigation } from './stores/navigation';
import { usePartition } from './stores/partition';
import { useQuorum } from './stores/quorum';
import { useReaders } from './stores/readers';
import { watchLogins } from './stores/stale-errors';
import { AuditView } from './workflows/AuditView';
import { BackupPanel } from './workflows/BackupPanel';
import { CardsPanel } from './workflows/CardsPanel';
import { CeremoniesPanel } from './workflows/CeremoniesPanel';
import { CredentialsPanel } from './workflows/CredentialsPanel';
import { KeyInventory } from './workflows/KeyInventory';
import { PartitionDashboard } from './workflows/PartitionDashboard';
import { PolicyPanel } from './workflows/PolicyPanel';

function Content({ section }: { section: Section }): React.JSX.Element {
  switch (section) {
    case 'partition':
      return <PartitionDashboard />;
    case 'keys':
      return <KeyInventory />;
    case 'cards':
      return <CardsPanel />;
    case 'audit':
      return <AuditView />;
    case 'backup':
      return <BackupPanel />;
    case 'credentials':
      return <CredentialsPanel />;
    case 'policy':
      return <PolicyPanel />;
    case 'ceremonies':
      return <CeremoniesPanel />;
  }
}

function StatusBar(): React.JSX.Element {
  const view = usePartition((s) => s.view);
  const readers = useReaders((s) => s.snapshot);
  const cards = readers?.readers.filter((r) => r.condition === 'card-present' || r.condition === 'card-in-use').length ?? 0;
  return (
    <div className="status-bar" aria-label="Status">
      <span>{view ? `Partition “${view.token.label}” · serial ${view.token.serial}` : 'No partition chosen'}</span>
      <span className={view?.token.loggedIn ? 'badge on' : 'badge'}>{view?.token.loggedIn ? 'Crypto officer logged in' : 'Crypto officer not logged in'}</span>
      <SoSessionBadge />
      <span>
        {readers === null
          ? 'Card service: checking…'
          : readers.service === 'running'
            ? `Card readers: ${readers.readers.length}, cards: ${cards}`
            : 'Card service not running'}
      </span>
    </div>
  );
}

/** Arrow keys (and Home, End) move the focus among the section buttons, as in any list of choices. */
function moveAmongSections(e: React.KeyboardEvent<HTMLUListElement>): void {
  const buttons = [...e.currentTarget.querySelectorAll('button')];
  const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
  const to = { ArrowDown: at + 1, ArrowRight: at + 1, ArrowUp: at - 1, ArrowLeft: at - 1, Home: 0, End: buttons.length - 1 }[e.key];
  if (to === undefined || at < 0) return;
  e.preventDefault();
  buttons[(to + buttons.length) % buttons.length]?.focus();
}

export function App(): React.JSX.Element {
  const { section, go } = useNavigation();
  const start = usePartition((s) => s.start);
  const loadReaders = useReaders((s) => s.load);
  const loadQuorum = useQuorum((s) => s.load);
  const verifyAudit = useAudit((s) => s.verify);
  useEffect(() => {
    void start().then(() => loadQuorum());
    void loadReaders();
    // A replaced or cut log is shown at once, whatever section is open.
    void verifyAudit();
  }, [start, loadReaders, loadQuorum, verifyAudit]);
  useEffect(() => watchLogins(), []);
  return (
    <div className="shell">
      <header>
        <span className="brand">Tessera</span>
        <StatusBar />
      </header>
      <nav aria-label="Sections">
        <ul onKeyDown={moveAmongSections}>
          {sections.map((s) => (
            <li key={s}>
              <button type="button" aria-current={s === section ? 'page' : undefined} onClick={() => go(s)}>
                {sectionTitles[s]}
              </button>
            </li>
          ))}
        </ul>
      </nav>
      <main>
        <AuditAlarm />
        <SoSessionEnded />
        <ErrorBoundary resetKey={section}>
          <Content section={section} />
        </ErrorBoundary>
      </main>
    </div>
  );
}
