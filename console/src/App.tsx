import { useEffect, useState } from 'react';
import { api, errorMessage, type DemoStatus } from './api.ts';
import { navigate, usePath } from './router.ts';
import { Alert, Link, cx } from './components/ui.tsx';
import { ComposerPage } from './pages/Composer.tsx';
import { JiraPage } from './pages/Jira.tsx';
import { InboxPage } from './pages/Inbox.tsx';
import { EventDetailPage } from './pages/EventDetail.tsx';
import { SubscriptionsPage } from './pages/Subscriptions.tsx';
import { LivePage } from './pages/Live.tsx';
import { OutboxPage } from './pages/Outbox.tsx';
import { ReplaysPage } from './pages/Replays.tsx';

const SECTIONS = [
  { path: '/composer', label: 'Event Composer', short: 'Composer' },
  { path: '/jira', label: 'Jira Ticket Analysis', short: 'Jira' },
  { path: '/inbox', label: 'Event Inbox', short: 'Inbox' },
  { path: '/subscriptions', label: 'Subscriptions', short: 'Subscriptions' },
  { path: '/replays', label: 'Bulk Replay', short: 'Replay' },
  { path: '/live', label: 'Live', short: 'Live' },
  { path: '/outbox', label: 'Outbox', short: 'Outbox' },
] as const;

const TITLES: Record<string, string> = Object.fromEntries(SECTIONS.map((s) => [s.path, s.label]));

export function App() {
  const path = usePath();
  const [status, setStatus] = useState<DemoStatus | null>(null);
  const [statusError, setStatusError] = useState<string | null>(null);
  const [environment, setEnvironment] = useState<string | null>(null);

  useEffect(() => {
    if (path === '/' || path === '') navigate('/composer', { replace: true });
  }, [path]);

  useEffect(() => {
    api.status().then(setStatus, (error) => setStatusError(errorMessage(error)));
    api.health().then((h) => setEnvironment(h.environment), () => setEnvironment(null));
  }, []);

  const section = SECTIONS.find((s) => path === s.path || path.startsWith(`${s.path}/`));
  useEffect(() => {
    document.title = section ? `${TITLES[section.path]} · Triggers Console` : 'Triggers Console';
  }, [section]);

  const eventId = path.startsWith('/inbox/') ? decodeURIComponent(path.slice('/inbox/'.length)) : null;
  const replayId = path.startsWith('/replays/') ? decodeURIComponent(path.slice('/replays/'.length)) : null;
  const keywords = status?.urgent_keywords ?? [];

  return (
    <div className="flex min-h-screen flex-col">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2">
        Skip to content
      </a>
      <header className="border-b border-gray-200 bg-white">
        <div className="h-1 bg-brand-500" aria-hidden="true" />
        <div className="mx-auto flex max-w-6xl flex-wrap items-center justify-between gap-x-4 gap-y-2 px-4 py-3">
          <Link href="/composer" className="flex items-center gap-2.5 rounded-md" aria-label="Triggers Console home">
            <svg className="h-8 w-8 shrink-0" viewBox="0 0 32 32" aria-hidden="true">
              <rect width="32" height="32" rx="8" fill="#FF4A00" />
              <path d="M18.5 4 8 18h7l-1.5 10L24 14h-7z" fill="#fff" />
            </svg>
            <span className="text-lg font-bold tracking-tight text-gray-900">
              Triggers <span className="font-medium text-gray-600">Console</span>
            </span>
          </Link>
          <div className="flex flex-wrap items-center gap-2 text-xs text-gray-700">
            {environment && (
              <span className="inline-flex items-center gap-1.5 rounded-full bg-emerald-50 px-2 py-1 font-medium text-emerald-800 ring-1 ring-inset ring-emerald-600/20">
                <span className="h-1.5 w-1.5 rounded-full bg-emerald-500" aria-hidden="true" />
                API healthy · {environment}
              </span>
            )}
            {status && (
              <span className="rounded-full bg-gray-100 px-2 py-1 font-medium" title={`Customer ${status.customer_id}`}>
                {status.customer_name}
              </span>
            )}
          </div>
        </div>
        <nav aria-label="Console sections" className="mx-auto max-w-6xl px-2 sm:px-4">
          <ul className="grid grid-cols-3 gap-1 pb-2 sm:flex sm:gap-1 sm:pb-0">
            {SECTIONS.map((s) => {
              const active = section?.path === s.path;
              return (
                <li key={s.path}>
                  <Link
                    href={s.path}
                    aria-current={active ? 'page' : undefined}
                    className={cx(
                      'block rounded-md px-2 py-2 text-center text-sm font-medium transition-colors sm:rounded-none sm:border-b-2 sm:px-3 sm:py-3',
                      active ? 'bg-brand-50 text-brand-700 sm:border-brand-500 sm:bg-transparent' : 'text-gray-700 hover:bg-gray-50 hover:text-gray-900 sm:border-transparent sm:hover:bg-transparent',
                    )}
                  >
                    <span className="sm:hidden">{s.short}</span>
                    <span className="hidden sm:inline">{s.label}</span>
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
      </header>

      <main id="main" className="mx-auto w-full max-w-6xl flex-1 px-4 py-6 sm:py-8">
        {statusError && (
          <div className="mb-4">
            <Alert kind="error" title="The demo back end is not answering">
              {statusError}
            </Alert>
          </div>
        )}
        {eventId ? (
          <EventDetailPage eventId={eventId} />
        ) : section?.path === '/jira' ? (
          <JiraPage />
        ) : section?.path === '/inbox' ? (
          <InboxPage />
        ) : section?.path === '/replays' ? (
          <ReplaysPage replayId={replayId} />
        ) : section?.path === '/subscriptions' ? (
          <SubscriptionsPage status={status} />
        ) : section?.path === '/live' ? (
          <LivePage />
        ) : section?.path === '/outbox' ? (
          <OutboxPage status={status} />
        ) : section?.path === '/composer' || path === '/' ? (
          <ComposerPage keywords={keywords} />
        ) : (
          <NotFound />
        )}
      </main>

      <footer className="border-t border-gray-200 bg-white">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center justify-between gap-2 px-4 py-4 text-xs text-gray-600">
          <p>The console acts as one demo customer; its API key stays on the server.</p>
          <p className="flex gap-3">
            <a className="font-medium text-brand-700 hover:underline" href="/openapi.json">
              OpenAPI
            </a>
            <a className="font-medium text-brand-700 hover:underline" href="/health">
              Health
            </a>
          </p>
        </div>
      </footer>
    </div>
  );
}

function NotFound() {
  return (
    <div className="py-16 text-center">
      <h1 className="text-xl font-semibold">Page not found</h1>
      <p className="mt-2 text-sm text-gray-600">
        Try the <Link href="/composer">Event Composer</Link> or the <Link href="/inbox">Event Inbox</Link>.
      </p>
    </div>
  );
}
