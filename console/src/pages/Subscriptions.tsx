import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { api, CUSTOM_OPERATORS, errorMessage, type DemoStatus, type SinkReceipt, type Selector, type Subscription } from '../api.ts';
import { formatDateTime, formatRelative, shortId } from '../format.ts';
import { Alert, Button, Card, CopyButton, EmptyState, Field, PageHeader, Skeleton, StatusBadge, cx, inputClass } from '../components/ui.tsx';

type Kind = 'event_type' | 'custom' | 'jsonpath';


const SAMPLE_PAYLOAD = JSON.stringify(
  {
    event_type: 'document.escalated',
    document_type: 'Contract',
    priority: 'high',
    amount: 1200,
    customer: { tier: 'gold' },
  },
  null,
  2,
);

interface Builder {
  kind: Kind;
  eventType: string;
  field: string;
  operator: (typeof CUSTOM_OPERATORS)[number];
  value: string;
  expression: string;
}

const DEFAULT_BUILDER: Builder = { kind: 'event_type', eventType: 'document.*', field: 'priority', operator: 'equals', value: 'high', expression: "$.priority == 'high' && $.amount > 100" };

/** A custom selector's value: JSON when it parses (100, true, ["a","b"]), else the text itself. */
function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function buildSelector(b: Builder): Selector {
  if (b.kind === 'event_type') return { type: 'event_type', value: b.eventType.trim() };
  if (b.kind === 'jsonpath') return { type: 'jsonpath', expression: b.expression };
  const takesValue = b.operator !== 'exists' && b.operator !== 'not_exists';
  return { type: 'custom', function: { field: b.field.trim(), operator: b.operator, ...(takesValue ? { value: parseValue(b.value) } : {}) } };
}

export function describeSelector(selector: Selector): string {
  switch (selector.type) {
    case 'event_type':
      return `event_type = ${selector.value}`;
    case 'jsonpath':
      return selector.expression;
    case 'custom': {
      const { field, operator, value } = selector.function;
      return value === undefined ? `${field} ${operator}` : `${field} ${operator} ${JSON.stringify(value)}`;
    }
    default:
      return `${selector.type}(${selector.selectors.map(describeSelector).join(selector.type === 'all' ? ' AND ' : ' OR ')})`;
  }
}

/** The subscription's retry policy in words; the settings' defaults when it has none of its own. */
export function describeRetry(s: Pick<Subscription, 'retry' | 'timeout_ms'>): string {
  const r = s.retry;
  const parts = [
    r?.max_attempts !== undefined ? `${r.max_attempts} attempts` : 'default attempts',
    r?.schedule_ms ? `retry after ${r.schedule_ms.map((ms) => `${ms} ms`).join(', ')}` : r?.base_ms !== undefined ? `backoff from ${r.base_ms} ms` : 'default backoff',
  ];
  if (r?.max_delay_ms !== undefined) parts.push(`at most ${r.max_delay_ms} ms apart`);
  parts.push(s.timeout_ms ? `timeout ${s.timeout_ms} ms` : 'default timeout');
  return `Retries: ${parts.join(' · ')}`;
}

/** The form's retry fields as the API's `retry` and `timeout_ms` (blank fields are left to the settings). */
function retryFields(form: { maxAttempts: string; scheduleMs: string; timeoutMs: string }): { retry?: { max_attempts?: number; schedule_ms?: number[] }; timeout_ms?: number } {
  const retry: { max_attempts?: number; schedule_ms?: number[] } = {};
  if (form.maxAttempts.trim()) retry.max_attempts = Number(form.maxAttempts.trim());
  const schedule = form.scheduleMs.split(',').map((part) => part.trim()).filter(Boolean);
  if (schedule.length > 0) retry.schedule_ms = schedule.map(Number);
  return { ...(Object.keys(retry).length > 0 ? { retry } : {}), ...(form.timeoutMs.trim() ? { timeout_ms: Number(form.timeoutMs.trim()) } : {}) };
}

interface RevealedSecret {
  workflowId: string;
  label: string;
  secret: string;
  rotated: boolean;
}

export function SubscriptionsPage({ status }: { status: DemoStatus | null }) {
  const [subscriptions, setSubscriptions] = useState<Subscription[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [secret, setSecret] = useState<RevealedSecret | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [busyId, setBusyId] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState<string | null>(null);
  const secretRef = useRef<HTMLDivElement>(null);

  const load = useCallback(async () => {
    try {
      setSubscriptions((await api.subscriptions()).subscriptions);
      setListError(null);
    } catch (thrown) {
      setListError(errorMessage(thrown));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    if (secret) secretRef.current?.focus();
  }, [secret]);

  async function act(id: string, action: () => Promise<void>) {
    setBusyId(id);
    setActionError(null);
    try {
      await action();
      await load();
    } catch (thrown) {
      setActionError(errorMessage(thrown));
    } finally {
      setBusyId(null);
    }
  }

  const label = (s: Subscription) => s.description || `Subscription ${shortId(s.workflow_id)}`;

  return (
    <>
      <PageHeader title="Subscriptions" description="Where the demo customer’s events go: each subscription’s selector picks events, which are signed and POSTed to its webhook URL." />

      {secret && (
        <div ref={secretRef} tabIndex={-1} className="mb-6 rounded-xl border-2 border-brand-500 bg-brand-50 p-4" role="region" aria-label="Signing secret" data-testid="secret-reveal">
          <p className="font-semibold text-gray-900">
            {secret.rotated ? 'New signing secret' : 'Signing secret'} for “{secret.label}”
          </p>
          <p className="mt-0.5 text-sm text-gray-700">Copy it now: it is shown only once.{secret.rotated && ' The previous secret keeps signing too for 24 hours.'}</p>
          <div className="mt-3 flex flex-wrap items-center gap-2">
            <code className="min-w-0 flex-1 break-all rounded-lg bg-white px-3 py-2 font-mono text-sm text-gray-900 ring-1 ring-brand-200" data-testid="secret-value">
              {secret.secret}
            </code>
            <CopyButton text={secret.secret} />
            <Button size="sm" variant="ghost" onClick={() => setSecret(null)}>
              Dismiss
            </Button>
          </div>
        </div>
      )}

      <div className="grid grid-cols-1 gap-6 lg:grid-cols-[minmax(0,1fr)_minmax(0,1fr)]">
        <div className="min-w-0 space-y-6">
          <Card title="Subscriptions" actions={<Button size="sm" onClick={() => void load()}>Refresh</Button>}>
            <div aria-live="polite">{actionError && <Alert kind="error">{actionError}</Alert>}</div>
            {listError && <Alert kind="error" title="The subscriptions could not be loaded">{listError}</Alert>}
            {!subscriptions && !listError && <Skeleton rows={2} />}
            {subscriptions && subscriptions.length === 0 && <EmptyState title="No subscriptions yet">Create one with the form.</EmptyState>}
            {subscriptions && subscriptions.length > 0 && (
              <ul className="divide-y divide-gray-100" data-testid="subscription-list" aria-label="Subscriptions">
                {subscriptions.map((s) => {
                  const builtIn = status?.webhook_sink?.workflow_id === s.workflow_id;
                  const busy = busyId === s.workflow_id;
                  return (
                    <li key={s.workflow_id} className="py-3 first:pt-0 last:pb-0" data-workflow-id={s.workflow_id}>
                      <div className="flex flex-wrap items-center gap-2">
                        <span className="min-w-0 break-words font-semibold text-gray-900">{label(s)}</span>
                        <StatusBadge status={s.status} />
                        {builtIn && <span className="rounded-full bg-gray-100 px-2 py-0.5 text-xs font-medium text-gray-700">built in</span>}
                        {s.ordering === 'fifo' && (
                          <span className="rounded-full bg-indigo-50 px-2 py-0.5 text-xs font-medium text-indigo-800" title="One delivery at a time, in the order the events were accepted">
                            FIFO
                          </span>
                        )}
                      </div>
                      <p className="mt-1 break-words font-mono text-xs text-gray-800">{describeSelector(s.event_selector)}</p>
                      <p className="mt-0.5 break-all text-xs text-gray-600">→ {s.webhook_url}</p>
                      {s.disabled_reason && <p className="mt-0.5 text-xs text-red-700">Disabled: {s.disabled_reason}</p>}
                      <p className="mt-0.5 text-xs text-gray-600" data-testid="subscription-retry">
                        {describeRetry(s)}
                      </p>
                      <p className="mt-0.5 text-xs text-gray-600">
                        Created <time dateTime={s.created_at} title={formatDateTime(s.created_at)}>{formatRelative(s.created_at)}</time>
                      </p>
                      <div className="mt-2 flex flex-wrap gap-2">
                        <Button
                          size="sm"
                          disabled={busy}
                          onClick={() => act(s.workflow_id, async () => void (await api.updateSubscription(s.workflow_id, { status: s.status === 'active' ? 'disabled' : 'active' })))}
                        >
                          {s.status === 'active' ? 'Disable' : 'Enable'}
                        </Button>
                        <Button
                          size="sm"
                          disabled={busy}
                          onClick={() =>
                            act(s.workflow_id, async () => {
                              const rotated = await api.rotateSecret(s.workflow_id);
                              setSecret({ workflowId: s.workflow_id, label: label(s), secret: rotated.secret, rotated: true });
                            })
                          }
                        >
                          Rotate secret
                        </Button>
                        {confirmDelete === s.workflow_id ? (
                          <>
                            <Button size="sm" variant="danger" disabled={busy} onClick={() => act(s.workflow_id, async () => { await api.deleteSubscription(s.workflow_id); setConfirmDelete(null); })}>
                              Confirm delete
                            </Button>
                            <Button size="sm" variant="ghost" onClick={() => setConfirmDelete(null)}>
                              Keep
                            </Button>
                          </>
                        ) : (
                          <Button size="sm" variant="danger" disabled={busy} onClick={() => setConfirmDelete(s.workflow_id)}>
                            Delete
                          </Button>
                        )}
                      </div>
                    </li>
                  );
                })}
              </ul>
            )}
          </Card>
          <SinkCard status={status} />
        </div>
        <CreateSubscription
          onCreated={(created) => {
            setSecret({ workflowId: created.workflow_id, label: label(created), secret: created.secret ?? '', rotated: false });
            void load();
          }}
        />
      </div>
    </>
  );
}

function CreateSubscription({ onCreated }: { onCreated: (subscription: Subscription) => void }) {
  const [builder, setBuilder] = useState<Builder>(DEFAULT_BUILDER);
  const [description, setDescription] = useState('');
  const [webhookUrl, setWebhookUrl] = useState('');
  const [retryForm, setRetryForm] = useState({ maxAttempts: '', scheduleMs: '', timeoutMs: '' });
  const [ordering, setOrdering] = useState<'unordered' | 'fifo'>('unordered');
  const [sample, setSample] = useState(SAMPLE_PAYLOAD);
  const [test, setTest] = useState<{ kind: 'match' | 'miss' | 'invalid' | 'error'; text: string } | null>(null);
  const [testing, setTesting] = useState(false);
  const [creating, setCreating] = useState(false);
  const [createError, setCreateError] = useState<string | null>(null);
  const [urlError, setUrlError] = useState<string | null>(null);

  const selector = buildSelector(builder);
  const set = <K extends keyof Builder>(name: K, value: Builder[K]) => {
    setBuilder((b) => ({ ...b, [name]: value }));
    setTest(null);
  };

  async function runTest() {
    let payload: unknown;
    try {
      payload = JSON.parse(sample);
    } catch {
      setTest({ kind: 'error', text: 'The sample payload is not valid JSON.' });
      return;
    }
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      setTest({ kind: 'error', text: 'The sample payload must be a JSON object.' });
      return;
    }
    setTesting(true);
    try {
      const result = await api.testSelector(selector, payload as Record<string, unknown>);
      if (!result.valid) setTest({ kind: 'invalid', text: `Invalid selector: ${result.detail}` });
      else setTest(result.matches ? { kind: 'match', text: 'Matches the sample payload.' } : { kind: 'miss', text: 'Does not match the sample payload.' });
    } catch (thrown) {
      setTest({ kind: 'error', text: errorMessage(thrown) });
    } finally {
      setTesting(false);
    }
  }

  async function create(event: FormEvent) {
    event.preventDefault();
    if (!/^https?:\/\/\S+$/i.test(webhookUrl.trim())) {
      setUrlError('Enter an http:// or https:// URL.');
      document.querySelector<HTMLElement>('[name="webhook_url"]')?.focus();
      return;
    }
    setUrlError(null);
    setCreating(true);
    setCreateError(null);
    try {
      const created = await api.createSubscription({
        event_selector: selector,
        webhook_url: webhookUrl.trim(),
        ordering,
        ...(description.trim() ? { description: description.trim() } : {}),
        ...retryFields(retryForm),
      });
      onCreated(created);
      setDescription('');
      setWebhookUrl('');
      setRetryForm({ maxAttempts: '', scheduleMs: '', timeoutMs: '' });
      setOrdering('unordered');
    } catch (thrown) {
      setCreateError(errorMessage(thrown));
    } finally {
      setCreating(false);
    }
  }

  const testStyles = { match: 'border-emerald-200 bg-emerald-50 text-emerald-900', miss: 'border-gray-200 bg-gray-50 text-gray-800', invalid: 'border-red-200 bg-red-50 text-red-900', error: 'border-red-200 bg-red-50 text-red-900' };

  return (
    <Card title="New subscription" description="Build a selector, try it on a sample payload, then subscribe a webhook URL.">
      <form noValidate onSubmit={create} className="space-y-4" aria-label="New subscription">
        <fieldset>
          <legend className="text-sm font-medium text-gray-800">Selector</legend>
          <div className="mt-1 grid grid-cols-3 gap-2">
            {(
              [
                ['event_type', 'Event type'],
                ['custom', 'Field rule'],
                ['jsonpath', 'JSONPath'],
              ] as const
            ).map(([kind, text]) => (
              <label
                key={kind}
                className={cx(
                  'relative flex cursor-pointer items-center justify-center rounded-lg border px-2 py-2 text-center text-sm font-medium has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-offset-2 has-[:focus-visible]:outline-brand-500',
                  builder.kind === kind ? 'border-brand-500 bg-brand-50 text-brand-700' : 'border-gray-300 bg-white text-gray-700 hover:bg-gray-50',
                )}
              >
                <input type="radio" name="selector_kind" value={kind} checked={builder.kind === kind} onChange={() => set('kind', kind)} className="absolute inset-0 h-full w-full cursor-pointer appearance-none opacity-0" />
                {text}
              </label>
            ))}
          </div>
        </fieldset>

        {builder.kind === 'event_type' && (
          <Field label="Event type" hint="Equal to payload.event_type; “order.*” matches one or more trailing segments.">
            {(props) => <input {...props} name="selector_event_type" className={cx(inputClass, 'font-mono')} value={builder.eventType} onChange={(e) => set('eventType', e.target.value)} autoComplete="off" />}
          </Field>
        )}
        {builder.kind === 'custom' && (
          <div className="grid gap-3 sm:grid-cols-3">
            <Field label="Field" hint="Dotted path, e.g. customer.tier">
              {(props) => <input {...props} name="selector_field" className={cx(inputClass, 'font-mono')} value={builder.field} onChange={(e) => set('field', e.target.value)} autoComplete="off" />}
            </Field>
            <Field label="Operator">
              {(props) => (
                <select {...props} name="selector_operator" className={inputClass} value={builder.operator} onChange={(e) => set('operator', e.target.value as Builder['operator'])}>
                  {CUSTOM_OPERATORS.map((op) => (
                    <option key={op} value={op}>
                      {op.replaceAll('_', ' ')}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            {builder.operator !== 'exists' && builder.operator !== 'not_exists' && (
              <Field label="Value" hint='JSON if it parses (100, true, ["a"]), else text'>
                {(props) => <input {...props} name="selector_value" className={cx(inputClass, 'font-mono')} value={builder.value} onChange={(e) => set('value', e.target.value)} autoComplete="off" />}
              </Field>
            )}
          </div>
        )}
        {builder.kind === 'jsonpath' && (
          <Field label="Expression" hint="RFC 9535 paths compared with == != > >= < <=, combined with && || ! and parentheses.">
            {(props) => (
              <textarea {...props} name="selector_expression" rows={2} spellCheck={false} className={cx(inputClass, 'font-mono')} value={builder.expression} onChange={(e) => set('expression', e.target.value)} />
            )}
          </Field>
        )}

        <div>
          <p className="text-xs font-medium text-gray-700">Selector JSON</p>
          <pre className="mt-1 whitespace-pre-wrap rounded-lg bg-gray-100 p-2 font-mono text-xs text-gray-900" data-testid="selector-json">
            {JSON.stringify(selector)}
          </pre>
        </div>

        <Field label="Sample payload">
          {(props) => (
            <textarea
              {...props}
              name="sample_payload"
              rows={7}
              spellCheck={false}
              className={cx(inputClass, 'font-mono text-xs')}
              value={sample}
              onChange={(e) => {
                setSample(e.target.value);
                setTest(null);
              }}
            />
          )}
        </Field>
        <div className="flex flex-wrap items-center gap-3">
          <Button onClick={runTest} busy={testing}>
            Test match
          </Button>
          <div aria-live="polite" className="min-w-0 flex-1">
            {test && (
              <p className={cx('rounded-lg border px-3 py-1.5 text-sm font-medium break-words', testStyles[test.kind])} data-testid="selector-test-result" data-result={test.kind}>
                {test.kind === 'match' ? '✓ ' : test.kind === 'miss' ? '✗ ' : ''}
                {test.text}
              </p>
            )}
          </div>
        </div>

        <hr className="border-gray-100" />

        <Field label="Description (optional)">
          {(props) => <input {...props} name="description" className={inputClass} value={description} onChange={(e) => setDescription(e.target.value)} maxLength={1000} placeholder="Escalations to the on-call bot" />}
        </Field>
        <Field label="Webhook URL" error={urlError} hint="Loopback receivers (http://127.0.0.1:…) are allowed in dev.">
          {(props) => (
            <input
              {...props}
              name="webhook_url"
              type="url"
              inputMode="url"
              className={inputClass}
              value={webhookUrl}
              onChange={(e) => setWebhookUrl(e.target.value)}
              placeholder="https://hooks.example.com/triggers"
              autoComplete="off"
            />
          )}
        </Field>
        <fieldset className="grid gap-3 sm:grid-cols-3">
          <legend className="mb-1 text-sm font-medium text-gray-800">Retry policy (optional; blank fields use the server's settings)</legend>
          <Field label="Max attempts" hint="1–20">
            {(props) => <input {...props} name="retry_max_attempts" inputMode="numeric" className={inputClass} value={retryForm.maxAttempts} onChange={(e) => setRetryForm((f) => ({ ...f, maxAttempts: e.target.value }))} autoComplete="off" />}
          </Field>
          <Field label="Retry delays (ms)" hint="Comma-separated, e.g. 1000, 60000; the last repeats">
            {(props) => <input {...props} name="retry_schedule_ms" className={cx(inputClass, 'font-mono')} value={retryForm.scheduleMs} onChange={(e) => setRetryForm((f) => ({ ...f, scheduleMs: e.target.value }))} autoComplete="off" />}
          </Field>
          <Field label="Timeout (ms)" hint="1000–60000">
            {(props) => <input {...props} name="timeout_ms" inputMode="numeric" className={inputClass} value={retryForm.timeoutMs} onChange={(e) => setRetryForm((f) => ({ ...f, timeoutMs: e.target.value }))} autoComplete="off" />}
          </Field>
        </fieldset>
        <Field label="Delivery order" hint="FIFO: one delivery at a time, in the order the events were accepted; a retrying delivery holds the ones behind it.">
          {(props) => (
            <select {...props} name="ordering" className={inputClass} value={ordering} onChange={(e) => setOrdering(e.target.value as 'unordered' | 'fifo')}>
              <option value="unordered">Unordered (parallel)</option>
              <option value="fifo">FIFO (in event order)</option>
            </select>
          )}
        </Field>
        <div aria-live="polite">{createError && <Alert kind="error" title="Not created">{createError}</Alert>}</div>
        <Button type="submit" variant="primary" busy={creating}>
          Create subscription
        </Button>
      </form>
    </Card>
  );
}

function SinkCard({ status }: { status: DemoStatus | null }) {
  const [receipts, setReceipts] = useState<SinkReceipt[] | null>(null);
  useEffect(() => {
    let stopped = false;
    const poll = () => api.sink().then((r) => !stopped && setReceipts(r.receipts), () => undefined);
    void poll();
    const timer = setInterval(poll, 4000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);

  if (!status?.webhook_sink) return null;
  return (
    <Card title="Built-in webhook sink" description="The default subscription delivers composer and ticket events here; each delivery’s signature is checked.">
      {!receipts ? (
        <Skeleton rows={1} />
      ) : receipts.length === 0 ? (
        <p className="text-sm text-gray-600">Nothing received yet.</p>
      ) : (
        <ul className="space-y-2">
          {receipts.slice(0, 8).map((r, i) => (
            <li key={`${r.webhook_id}-${i}`} className="flex flex-wrap items-center justify-between gap-2 text-sm">
              <span className="min-w-0 break-all font-mono text-xs text-gray-800">{r.event_ids.map(shortId).join(', ') || '(no events)'}</span>
              <span className="flex items-center gap-2 text-xs text-gray-600">
                <span className={cx('rounded-full px-2 py-0.5 font-medium ring-1 ring-inset', r.signature_verified ? 'bg-emerald-50 text-emerald-800 ring-emerald-600/20' : 'bg-red-50 text-red-800 ring-red-600/20')}>
                  {r.signature_verified ? 'signature ok' : 'bad signature'}
                </span>
                {formatRelative(r.received_at)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
