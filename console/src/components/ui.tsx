import { useEffect, useId, useState, type ButtonHTMLAttributes, type ReactNode } from 'react';
import type { EventStatus } from '../api.ts';
import { onLinkClick } from '../router.ts';

/** Small building blocks shared by the pages. */

export function cx(...classes: (string | false | null | undefined)[]): string {
  return classes.filter(Boolean).join(' ');
}

export function Card({ title, description, actions, children, className }: { title?: ReactNode; description?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string }) {
  return (
    <section className={cx('min-w-0 rounded-xl border border-gray-200 bg-white shadow-sm', className)}>
      {(title || actions) && (
        <header className="flex flex-wrap items-start justify-between gap-3 border-b border-gray-100 px-4 py-3 sm:px-5">
          <div className="min-w-0">
            {title && <h2 className="text-base font-semibold text-gray-900">{title}</h2>}
            {description && <p className="mt-0.5 text-sm text-gray-600">{description}</p>}
          </div>
          {actions && <div className="flex flex-wrap items-center gap-2">{actions}</div>}
        </header>
      )}
      <div className="px-4 py-4 sm:px-5">{children}</div>
    </section>
  );
}

type Variant = 'primary' | 'secondary' | 'ghost' | 'danger';

const VARIANTS: Record<Variant, string> = {
  primary: 'bg-brand-600 text-white shadow-sm hover:bg-[#b83500] active:bg-brand-700 disabled:bg-brand-200 disabled:text-brand-800',
  secondary: 'border border-gray-300 bg-white text-gray-800 hover:bg-gray-50 active:bg-gray-100 disabled:text-gray-500',
  ghost: 'text-gray-700 hover:bg-gray-100 disabled:text-gray-500',
  danger: 'border border-red-200 bg-white text-red-700 hover:bg-red-50 disabled:text-red-300',
};

export function Button({ variant = 'secondary', busy = false, size = 'md', className, children, disabled, ...rest }: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant; busy?: boolean; size?: 'sm' | 'md' }) {
  return (
    <button
      type="button"
      {...rest}
      disabled={disabled || busy}
      aria-busy={busy || undefined}
      className={cx(
        'inline-flex items-center justify-center gap-2 rounded-lg font-medium transition-colors disabled:cursor-not-allowed',
        size === 'sm' ? 'px-2.5 py-1.5 text-sm' : 'px-4 py-2 text-sm sm:text-[0.9375rem]',
        VARIANTS[variant],
        className,
      )}
    >
      {busy && <Spinner />}
      {children}
    </button>
  );
}

export function Spinner({ label }: { label?: string }) {
  return (
    <span className="inline-flex items-center gap-2">
      <svg className="h-4 w-4 animate-spin" viewBox="0 0 24 24" fill="none" aria-hidden="true">
        <circle cx="12" cy="12" r="10" stroke="currentColor" strokeOpacity="0.25" strokeWidth="4" />
        <path d="M22 12a10 10 0 0 0-10-10" stroke="currentColor" strokeWidth="4" strokeLinecap="round" />
      </svg>
      {label && <span>{label}</span>}
    </span>
  );
}

export function Link({ href, children, className, ...rest }: { href: string; children: ReactNode; className?: string; 'aria-current'?: 'page' | undefined; 'aria-label'?: string }) {
  return (
    <a href={href} onClick={onLinkClick} className={className ?? 'font-medium text-brand-700 underline-offset-2 hover:underline'} {...rest}>
      {children}
    </a>
  );
}

const STATUS_STYLES: Record<string, { box: string; dot: string }> = {
  delivered: { box: 'bg-emerald-50 text-emerald-800 ring-emerald-600/20', dot: 'bg-emerald-500' },
  succeeded: { box: 'bg-emerald-50 text-emerald-800 ring-emerald-600/20', dot: 'bg-emerald-500' },
  active: { box: 'bg-emerald-50 text-emerald-800 ring-emerald-600/20', dot: 'bg-emerald-500' },
  pending: { box: 'bg-amber-50 text-amber-800 ring-amber-600/25', dot: 'bg-amber-500' },
  retrying: { box: 'bg-amber-50 text-amber-800 ring-amber-600/25', dot: 'bg-amber-500' },
  failed: { box: 'bg-red-50 text-red-800 ring-red-600/20', dot: 'bg-red-500' },
  unmatched: { box: 'bg-gray-100 text-gray-700 ring-gray-500/20', dot: 'bg-gray-400' },
  disabled: { box: 'bg-gray-100 text-gray-700 ring-gray-500/20', dot: 'bg-gray-400' },
  running: { box: 'bg-amber-50 text-amber-800 ring-amber-600/25', dot: 'bg-amber-500' },
  completed: { box: 'bg-emerald-50 text-emerald-800 ring-emerald-600/20', dot: 'bg-emerald-500' },
  cancelled: { box: 'bg-gray-100 text-gray-700 ring-gray-500/20', dot: 'bg-gray-400' },
};

/** Colour-coded, and always with the word: colour is never the only cue. */
export function StatusBadge({ status }: { status: EventStatus | string }) {
  const style = STATUS_STYLES[status] ?? STATUS_STYLES.unmatched;
  return (
    <span data-status={status} className={cx('inline-flex shrink-0 items-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset', style.box)}>
      <span className={cx('h-1.5 w-1.5 rounded-full', style.dot, (status === 'pending' || status === 'running') && 'animate-pulse')} aria-hidden="true" />
      {status}
    </span>
  );
}

/** The `<option>`s of an event status filter, "any" first. */
export function EventStatusOptions({ anyLabel }: { anyLabel: string }) {
  return (
    <>
      <option value="">{anyLabel}</option>
      <option value="delivered">Delivered</option>
      <option value="pending">Pending</option>
      <option value="failed">Failed</option>
      <option value="unmatched">Unmatched</option>
    </>
  );
}

export const STATUS_COLOURS: Record<EventStatus, string> = {
  delivered: '#10b981',
  pending: '#f59e0b',
  failed: '#ef4444',
  unmatched: '#9ca3af',
};

export function Alert({ kind, title, children }: { kind: 'error' | 'success' | 'info' | 'warning'; title?: ReactNode; children?: ReactNode }) {
  const styles = {
    error: 'border-red-200 bg-red-50 text-red-900',
    success: 'border-emerald-200 bg-emerald-50 text-emerald-900',
    info: 'border-sky-200 bg-sky-50 text-sky-900',
    warning: 'border-amber-200 bg-amber-50 text-amber-900',
  }[kind];
  return (
    <div role={kind === 'error' ? 'alert' : undefined} className={cx('rounded-lg border px-3 py-2.5 text-sm', styles)}>
      {title && <p className="font-semibold">{title}</p>}
      {children && <div className={title ? 'mt-0.5' : undefined}>{children}</div>}
    </div>
  );
}

export function Field({
  label,
  hint,
  error,
  children,
  className,
}: {
  label: ReactNode;
  hint?: ReactNode;
  error?: string | null;
  className?: string;
  children: (props: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: boolean }) => ReactNode;
}) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return (
    <div className={cx('min-w-0', className)}>
      <label htmlFor={id} className="block text-sm font-medium text-gray-800">
        {label}
      </label>
      <div className="mt-1">{children({ id, 'aria-describedby': describedBy, 'aria-invalid': error ? true : undefined })}</div>
      {hint && !error && (
        <p id={hintId} className="mt-1 text-xs text-gray-600">
          {hint}
        </p>
      )}
      {error && (
        <p id={errorId} className="mt-1 text-xs font-medium text-red-700">
          {error}
        </p>
      )}
    </div>
  );
}

/** Form controls: `inputClass` fills its field; `inlineInputClass` sizes to its content (toolbars). */
export const inlineInputClass =
  'min-w-0 rounded-lg border border-gray-300 bg-white px-3 py-2 text-sm text-gray-900 shadow-xs placeholder:text-gray-500 focus:border-brand-500 focus:outline-none focus:ring-2 focus:ring-brand-500/30 aria-[invalid=true]:border-red-500 aria-[invalid=true]:ring-red-500/20 disabled:bg-gray-50';
export const inputClass = `block w-full ${inlineInputClass}`;

export function JsonView({ value, className }: { value: unknown; className?: string }) {
  return (
    <pre className={cx('max-h-96 overflow-auto whitespace-pre-wrap rounded-lg bg-gray-900 p-3 font-mono text-xs leading-relaxed text-gray-100', className)}>
      <code>{JSON.stringify(value, null, 2)}</code>
    </pre>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="rounded-lg border border-dashed border-gray-300 px-4 py-10 text-center">
      <svg className="mx-auto h-10 w-10 text-gray-400" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="1.5" aria-hidden="true">
        <path d="M3 13h4l2 3h6l2-3h4M5 13V6a2 2 0 0 1 2-2h10a2 2 0 0 1 2 2v7M3 13v5a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2v-5" />
      </svg>
      <p className="mt-2 text-sm font-semibold text-gray-800">{title}</p>
      {children && <div className="mt-1 text-sm text-gray-600">{children}</div>}
    </div>
  );
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const timer = setTimeout(() => setCopied(false), 2000);
    return () => clearTimeout(timer);
  }, [copied]);
  return (
    <Button
      size="sm"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          setCopied(true);
        } catch {
          setCopied(false);
        }
      }}
    >
      <span aria-live="polite">{copied ? 'Copied' : label}</span>
    </Button>
  );
}

export function Skeleton({ rows = 3 }: { rows?: number }) {
  return (
    <div className="space-y-3" aria-hidden="true">
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} className="h-14 animate-pulse rounded-lg bg-gray-100" />
      ))}
    </div>
  );
}

export function Toggle({ checked, onChange, label }: { checked: boolean; onChange: (value: boolean) => void; label: string }) {
  return (
    <label className="inline-flex cursor-pointer select-none items-center gap-2 text-sm text-gray-800">
      <input type="checkbox" role="switch" className="peer sr-only" checked={checked} onChange={(e) => onChange(e.target.checked)} />
      <span
        aria-hidden="true"
        className="relative h-5 w-9 rounded-full bg-gray-300 transition-colors peer-checked:bg-brand-600 peer-focus-visible:outline-2 peer-focus-visible:outline-offset-2 peer-focus-visible:outline-brand-500 after:absolute after:left-0.5 after:top-0.5 after:h-4 after:w-4 after:rounded-full after:bg-white after:shadow after:transition-transform peer-checked:after:translate-x-4"
      />
      {label}
    </label>
  );
}

export function PageHeader({ title, description, actions }: { title: string; description?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="mb-5 flex flex-wrap items-end justify-between gap-3">
      <div className="min-w-0">
        <h1 className="text-xl font-semibold tracking-tight text-gray-900 sm:text-2xl">{title}</h1>
        {description && <p className="mt-1 max-w-3xl text-sm text-gray-600">{description}</p>}
      </div>
      {actions && <div className="flex flex-wrap items-center gap-2">{actions}</div>}
    </div>
  );
}
