import { useEffect, useRef, useState } from 'react';
import { api, errorMessage, type EventStatus, type Stats } from '../api.ts';
import { formatTime } from '../format.ts';
import { Alert, Button, Card, PageHeader, Skeleton, STATUS_COLOURS, Toggle, cx, inlineInputClass } from '../components/ui.tsx';

const WINDOWS = [
  { seconds: 60, bucket: 2, label: '1 minute' },
  { seconds: 300, bucket: 10, label: '5 minutes' },
  { seconds: 900, bucket: 30, label: '15 minutes' },
];
const OUTCOMES: EventStatus[] = ['delivered', 'pending', 'failed', 'unmatched'];
const POLL_MS = 2000;

export function LivePage() {
  const [windowIndex, setWindowIndex] = useState(0);
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [paused, setPaused] = useState(false);
  const [burstSize, setBurstSize] = useState(20);
  const [bursting, setBursting] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const win = WINDOWS[windowIndex];

  useEffect(() => {
    if (paused) return;
    let stopped = false;
    const poll = async () => {
      try {
        const next = await api.stats(win.seconds, win.bucket);
        if (!stopped) {
          setStats(next);
          setError(null);
        }
      } catch (thrown) {
        if (!stopped) setError(errorMessage(thrown));
      }
    };
    void poll();
    const timer = setInterval(() => document.visibilityState === 'visible' && void poll(), POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [paused, win.seconds, win.bucket]);

  async function burst() {
    setBursting(true);
    setNotice(null);
    try {
      const result = await api.burst(burstSize);
      setNotice(`${result.accepted} events accepted through POST /api/v1/events/batch.`);
    } catch (thrown) {
      setNotice(null);
      setError(errorMessage(thrown));
    } finally {
      setBursting(false);
    }
  }

  const totals = stats?.totals;
  return (
    <>
      <PageHeader
        title="Live"
        description="Events per second and how they ended, for the demo customer, refreshed every 2 seconds."
        actions={
          <>
            <label className="sr-only" htmlFor="window">
              Time window
            </label>
            <select id="window" className={inlineInputClass} value={windowIndex} onChange={(e) => setWindowIndex(Number(e.target.value))}>
              {WINDOWS.map((w, i) => (
                <option key={w.seconds} value={i}>
                  Last {w.label}
                </option>
              ))}
            </select>
            <Toggle checked={!paused} onChange={(on) => setPaused(!on)} label="Live" />
          </>
        }
      />

      {error && (
        <div className="mb-4">
          <Alert kind="error" title="The numbers could not be loaded">
            {error}
          </Alert>
        </div>
      )}

      <div className="mb-6 grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6" data-testid="live-tiles">
        <Tile label="Events / s" value={stats ? stats.rate_per_second.toFixed(stats.rate_per_second < 10 ? 1 : 0) : '—'} accent />
        <Tile label={`Events (${win.label})`} value={totals ? String(totals.total) : '—'} />
        {OUTCOMES.map((o) => (
          <Tile key={o} label={o[0].toUpperCase() + o.slice(1)} value={totals ? String(totals[o]) : '—'} colour={STATUS_COLOURS[o]} />
        ))}
      </div>

      <Card
        title="Events per second by outcome"
        actions={
          <div className="flex flex-wrap items-center gap-2">
            <label className="sr-only" htmlFor="burst-size">
              Burst size
            </label>
            <select id="burst-size" className={cx(inlineInputClass, 'py-1.5')} value={burstSize} onChange={(e) => setBurstSize(Number(e.target.value))}>
              {[10, 20, 50, 100].map((n) => (
                <option key={n} value={n}>
                  {n} events
                </option>
              ))}
            </select>
            <Button size="sm" variant="primary" onClick={burst} busy={bursting}>
              Send a burst
            </Button>
          </div>
        }
      >
        <div aria-live="polite">{notice && <p className="mb-3 text-sm text-emerald-800">{notice}</p>}</div>
        {stats ? <Chart stats={stats} /> : <Skeleton rows={3} />}
        <ul className="mt-3 flex flex-wrap gap-x-4 gap-y-1 text-xs text-gray-700" aria-label="Legend">
          {OUTCOMES.map((o) => (
            <li key={o} className="flex items-center gap-1.5">
              <span className="h-2.5 w-2.5 rounded-sm" style={{ background: STATUS_COLOURS[o] }} aria-hidden="true" />
              {o}
            </li>
          ))}
        </ul>
        {stats?.truncated && <p className="mt-2 text-xs text-amber-800">More events than the chart counts: the newest 10,000 are shown.</p>}
      </Card>
    </>
  );
}

function Tile({ label, value, colour, accent }: { label: string; value: string; colour?: string; accent?: boolean }) {
  return (
    <div className={cx('min-w-0 rounded-xl border bg-white px-3 py-3 shadow-sm', accent ? 'border-brand-200' : 'border-gray-200')}>
      <p className="flex items-center gap-1.5 truncate text-xs font-medium text-gray-600">
        {colour && <span className="h-2 w-2 shrink-0 rounded-full" style={{ background: colour }} aria-hidden="true" />}
        {label}
      </p>
      <p className={cx('mt-1 text-2xl font-semibold tabular-nums', accent ? 'text-brand-700' : 'text-gray-900')}>{value}</p>
    </div>
  );
}

/** A round axis maximum: 1, 2, 5, 10, 20, 50, ... */
function niceMax(value: number): number {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

/** Stacked bars in inline SVG, drawn at the container's real width so text stays crisp. */
function Chart({ stats }: { stats: Stats }) {
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(640);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => setWidth(Math.max(240, Math.floor(entry.contentRect.width))));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const height = 220;
  const margin = { top: 10, right: 8, bottom: 24, left: 34 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const perSecond = (n: number) => n / stats.bucket_seconds;
  const max = niceMax(Math.max(...stats.buckets.map((b) => perSecond(b.total)), 0));
  const y = (v: number) => margin.top + plotH - (v / max) * plotH;
  const slot = plotW / stats.buckets.length;
  const barW = Math.max(1, slot * 0.72);
  const ticks = [0, max / 2, max];
  const labelEvery = Math.ceil(stats.buckets.length / Math.max(2, Math.floor(plotW / 80)));
  const { totals } = stats;
  const summary = `Last ${stats.window_seconds} seconds: ${totals.total} events, ${totals.delivered} delivered, ${totals.pending} pending, ${totals.failed} failed, ${totals.unmatched} unmatched; ${stats.rate_per_second} events per second.`;

  return (
    <div ref={box} className="w-full min-w-0">
      <svg width={width} height={height} role="img" aria-label={summary} className="block max-w-full" data-testid="live-chart">
        <title>{summary}</title>
        {ticks.map((t) => (
          <g key={t}>
            <line x1={margin.left} x2={width - margin.right} y1={y(t)} y2={y(t)} stroke="#e5e7eb" strokeDasharray={t === 0 ? undefined : '3 3'} />
            <text x={margin.left - 6} y={y(t)} dy="0.32em" textAnchor="end" fontSize="11" fill="#4b5563">
              {Number.isInteger(t) ? t : t.toFixed(1)}
            </text>
          </g>
        ))}
        {stats.buckets.map((bucket, i) => {
          let base = 0;
          const x = margin.left + i * slot + (slot - barW) / 2;
          return (
            <g key={bucket.start}>
              {OUTCOMES.map((o) => {
                const v = perSecond(bucket[o]);
                if (v === 0) return null;
                const top = y(base + v);
                const rect = <rect key={o} x={x} y={top} width={barW} height={Math.max(0.5, y(base) - top)} fill={STATUS_COLOURS[o]} rx={barW > 4 ? 1.5 : 0} />;
                base += v;
                return rect;
              })}
              {i % labelEvery === 0 && (
                <text x={x + barW / 2} y={height - 6} textAnchor="middle" fontSize="11" fill="#4b5563">
                  {formatTime(bucket.start)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
