// The SO session, shown everywhere while it lasts, with the time left before it ends unless used.
import { useEffect, useState } from 'react';
import { formatTimeOfDay } from '../format';
import { useQuorum } from '../stores/quorum';

function left(expiresAt: string, now: number): string {
  const seconds = Math.max(0, Math.round((Date.parse(expiresAt) - now) / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

const endWords = { idle: 'it was idle', logout: 'it was ended', quit: 'the terminal closed' } as const;

/** Says once that the SO session ended, when it ended by itself or elsewhere (not when ended here). */
export function SoSessionEnded(): React.JSX.Element | null {
  const { so, soEndSeen, seeSoEnd } = useQuorum();
  const end = so?.lastEnd;
  if (!so || so.active || !end || end.at === soEndSeen) return null;
  return (
    <div className="banner" role="alert">
      The security-officer session ({end.holders.join(', ')}) ended at {formatTimeOfDay(end.at)}: {endWords[end.reason]}
      {end.reason === 'idle' ? ` for ${so.idleMinutes} minutes` : ''}. Log in with the cards again for more SO work.
      <button type="button" className="link" onClick={seeSoEnd}>
        Dismiss
      </button>
    </div>
  );
}

export function SoSessionBadge(): React.JSX.Element | null {
  const { so, logoutSo } = useQuorum();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!so?.active) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [so?.active]);
  if (!so?.active || !so.expiresAt) return null;
  return (
    <span className="badge so" role="status" aria-label="Security-officer session">
      SO logged in ({so.holders.join(', ')}) · {left(so.expiresAt, now)} left
      <button type="button" className="link light" onClick={() => void logoutSo()}>
        End SO session
      </button>
    </span>
  );
}
