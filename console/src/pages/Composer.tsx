import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, errorMessage, type Decision, type Priority } from '../api.ts';
import { findKeywords } from '../format.ts';
import { Alert, Button, Card, Field, PageHeader, cx, inputClass } from '../components/ui.tsx';
import { DecisionResult } from '../components/DecisionResult.tsx';

interface Form {
  document_type: string;
  priority: Priority;
  description: string;
  customer_email: string;
}

type Errors = Partial<Record<keyof Form, string>>;

const EMPTY: Form = { document_type: '', priority: 'normal', description: '', customer_email: '' };
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/;
const DOCUMENT_TYPES = ['Contract', 'Invoice', 'Support ticket', 'Purchase order', 'Refund request', 'NDA'];

function validate(form: Form): Errors {
  const errors: Errors = {};
  if (!form.document_type.trim()) errors.document_type = 'Enter a document type, e.g. Contract.';
  else if (form.document_type.trim().length > 100) errors.document_type = 'Keep it under 100 characters.';
  if (!form.description.trim()) errors.description = 'Describe the document or the request.';
  else if (form.description.length > 5000) errors.description = 'Keep it under 5,000 characters.';
  if (!form.customer_email.trim()) errors.customer_email = 'Enter the customer’s email address.';
  else if (!EMAIL.test(form.customer_email.trim())) errors.customer_email = 'That does not look like an email address.';
  return errors;
}

export function ComposerPage({ keywords }: { keywords: string[] }) {
  const [form, setForm] = useState<Form>(EMPTY);
  const [touched, setTouched] = useState<Partial<Record<keyof Form, boolean>>>({});
  const [submitted, setSubmitted] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Decision | null>(null);
  const [error, setError] = useState<string | null>(null);

  const resultBox = useRef<HTMLDivElement>(null);

  // On a phone the result is below the form: bring it into view when it arrives.
  useEffect(() => {
    if (!result && !error) return;
    const box = resultBox.current?.getBoundingClientRect();
    if (box && (box.top < 0 || box.bottom > window.innerHeight)) resultBox.current?.scrollIntoView({ behavior: 'smooth', block: 'center' });
  }, [result, error]);

  const errors = validate(form);
  const shown = (name: keyof Form) => ((submitted || touched[name]) && errors[name]) || null;
  const found = findKeywords(form.description, keywords);

  const set = <K extends keyof Form>(name: K, value: Form[K]) => setForm((f) => ({ ...f, [name]: value }));
  const blur = (name: keyof Form) => () => setTouched((t) => ({ ...t, [name]: true }));

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSubmitted(true);
    if (Object.keys(errors).length > 0) {
      const first = (Object.keys(errors) as (keyof Form)[])[0];
      document.querySelector<HTMLElement>(`[name="${first}"]`)?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(
        await api.trigger({
          document_type: form.document_type.trim(),
          priority: form.priority,
          description: form.description.trim(),
          customer_email: form.customer_email.trim(),
        }),
      );
    } catch (thrown) {
      setError(errorMessage(thrown));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <PageHeader
        title="Event Composer"
        description="Describe a document. The demo agent decides whether it needs attention; when it does, the event goes through the public API and the customer gets an email."
      />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <Card title="Compose an event">
          <form noValidate onSubmit={submit} className="space-y-4" aria-label="Compose an event">
            <Field label="Document type" error={shown('document_type')}>
              {(props) => (
                <>
                  <input
                    {...props}
                    name="document_type"
                    list="document-types"
                    className={inputClass}
                    value={form.document_type}
                    onChange={(e) => set('document_type', e.target.value)}
                    onBlur={blur('document_type')}
                    placeholder="Contract"
                    autoComplete="off"
                    maxLength={100}
                  />
                  <datalist id="document-types">
                    {DOCUMENT_TYPES.map((t) => (
                      <option key={t} value={t} />
                    ))}
                  </datalist>
                </>
              )}
            </Field>

            <fieldset>
              <legend className="block text-sm font-medium text-gray-800">Priority</legend>
              <div className="mt-1 grid grid-cols-3 gap-2">
                {(['low', 'normal', 'high'] as const).map((p) => (
                  <label
                    key={p}
                    className={cx(
                      'relative flex cursor-pointer items-center justify-center gap-2 rounded-lg border px-3 py-2 text-sm font-medium capitalize transition-colors has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-offset-2 has-[:focus-visible]:outline-brand-500',
                      form.priority === p
                        ? p === 'high'
                          ? 'border-brand-500 bg-brand-50 text-brand-700'
                          : 'border-gray-800 bg-gray-50 text-gray-900'
                        : 'border-gray-300 bg-white text-gray-700 hover:bg-gray-50',
                    )}
                  >
                    <input type="radio" name="priority" value={p} checked={form.priority === p} onChange={() => set('priority', p)} className="absolute inset-0 h-full w-full cursor-pointer appearance-none opacity-0" />
                    {p}
                  </label>
                ))}
              </div>
            </fieldset>

            <Field
              label="Description"
              error={shown('description')}
              hint={
                <>
                  Urgent words trigger at any priority: {keywords.length > 0 ? keywords.join(', ') : 'angry, urgent, critical, escalate, emergency'}.
                </>
              }
            >
              {(props) => (
                <textarea
                  {...props}
                  name="description"
                  rows={5}
                  className={cx(inputClass, 'resize-y')}
                  value={form.description}
                  onChange={(e) => set('description', e.target.value)}
                  onBlur={blur('description')}
                  placeholder="The customer is angry: the renewal was charged twice."
                  maxLength={5000}
                />
              )}
            </Field>
            {found.length > 0 && (
              <p className="-mt-2 flex flex-wrap items-center gap-1.5 text-xs text-gray-700">
                Urgent keywords spotted:
                {found.map((k) => (
                  <span key={k} className="rounded-full bg-brand-50 px-2 py-0.5 font-medium text-brand-700 ring-1 ring-brand-200">
                    {k}
                  </span>
                ))}
              </p>
            )}

            <Field label="Customer email" error={shown('customer_email')} hint="Where the notification goes (the outbox keeps it unless Resend is configured).">
              {(props) => (
                <input
                  {...props}
                  name="customer_email"
                  type="email"
                  inputMode="email"
                  autoComplete="email"
                  className={inputClass}
                  value={form.customer_email}
                  onChange={(e) => set('customer_email', e.target.value)}
                  onBlur={blur('customer_email')}
                  placeholder="customer@example.com"
                />
              )}
            </Field>

            <div className="flex flex-wrap items-center gap-3 pt-1">
              <Button type="submit" variant="primary" busy={busy}>
                {busy ? 'Submitting…' : 'Run agent & submit'}
              </Button>
              <Button
                variant="ghost"
                onClick={() => {
                  setForm(EMPTY);
                  setTouched({});
                  setSubmitted(false);
                  setResult(null);
                  setError(null);
                }}
              >
                Clear
              </Button>
            </div>
          </form>
        </Card>

        <div className="space-y-6">
          <Card title="Agent decision">
            <div ref={resultBox} aria-live="polite" aria-atomic="true" className="space-y-3">
              {error && <Alert kind="error" title="The event was not submitted">{error}</Alert>}
              {result && <DecisionResult decision={result} />}
              {!error && !result && (
                <p className="text-sm text-gray-600">{busy ? 'The agent is deciding…' : 'Submit the form to see what the agent decides and why.'}</p>
              )}
            </div>
          </Card>
          <Card title="How the agent decides">
            <ul className="list-inside list-disc space-y-1.5 text-sm text-gray-700">
              <li>
                <strong className="font-semibold">High priority</strong> always triggers.
              </li>
              <li>
                Otherwise an <strong className="font-semibold">urgent keyword</strong> in the description triggers it (whole words, any case).
              </li>
              <li>A triggered event is sent as <code className="rounded bg-gray-100 px-1 text-xs">document.escalated</code> and shows up in the inbox.</li>
            </ul>
          </Card>
        </div>
      </div>
    </>
  );
}
