import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, errorMessage, type TicketAnalysis } from '../api.ts';
import { Alert, Button, Card, Field, PageHeader, Spinner, cx, inputClass } from '../components/ui.tsx';
import { DecisionResult } from '../components/DecisionResult.tsx';

const EXAMPLES = {
  urgent: [
    'SUP-4711: Checkout fails for EU customers',
    'Type: Bug',
    'Priority: Highest',
    'Reporter: Jane Doe <jane.doe@example.com>',
    'Description:',
    'Since the 10:00 deploy every EU card payment is declined.',
    'Roughly 300 orders are stuck and customers are angry.',
  ].join('\n'),
  calm: ['[DOCS-88] Update the onboarding guide screenshots', 'Priority: Low', 'Description:', 'The screenshots still show the old navigation. No rush.'].join('\n'),
};

export function JiraPage() {
  const [text, setText] = useState('');
  const [preview, setPreview] = useState<TicketAnalysis | null>(null);
  const [previewing, setPreviewing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<TicketAnalysis | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [fieldError, setFieldError] = useState<string | null>(null);

  // A live preview of what the server reads in the text (submit: false never submits).
  useEffect(() => {
    if (!text.trim()) {
      setPreview(null);
      return;
    }
    let cancelled = false;
    setPreviewing(true);
    const timer = setTimeout(() => {
      api.analyzeTicket(text, false).then(
        (analysis) => !cancelled && setPreview(analysis),
        () => !cancelled && setPreview(null),
      ).finally(() => !cancelled && setPreviewing(false));
    }, 350);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [text]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!text.trim()) {
      setFieldError('Paste a ticket first.');
      document.querySelector<HTMLElement>('[name="ticket"]')?.focus();
      return;
    }
    setFieldError(null);
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await api.analyzeTicket(text, true));
    } catch (thrown) {
      setError(errorMessage(thrown));
    } finally {
      setBusy(false);
    }
  }

  const resultBox = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!result && !error) return;
    const box = resultBox.current?.getBoundingClientRect();
    if (box && (box.top < 0 || box.bottom > window.innerHeight)) resultBox.current?.scrollIntoView({ behavior: 'smooth', block: 'center' });
  }, [result, error]);

  const shown = result ?? preview;

  return (
    <>
      <PageHeader
        title="Jira Ticket Analysis"
        description="Paste a ticket as copied from Jira. The agent reads its key, summary, priority and description, applies the same rule as the composer, and submits it when it is urgent."
      />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
        <Card
          title="Ticket text"
          actions={
            <>
              <Button size="sm" onClick={() => { setText(EXAMPLES.urgent); setResult(null); }}>
                Urgent example
              </Button>
              <Button size="sm" onClick={() => { setText(EXAMPLES.calm); setResult(null); }}>
                Calm example
              </Button>
            </>
          }
        >
          <form noValidate onSubmit={submit} className="space-y-4" aria-label="Analyze a Jira ticket">
            <Field label="Paste the ticket" error={fieldError} hint="Labelled lines (Summary:, Priority:, Description:), a first line like ABC-123: summary, or Jira’s issue view copy.">
              {(props) => (
                <textarea
                  {...props}
                  name="ticket"
                  rows={14}
                  spellCheck={false}
                  className={cx(inputClass, 'resize-y font-mono text-xs leading-relaxed sm:text-sm')}
                  value={text}
                  onChange={(e) => {
                    setText(e.target.value);
                    setResult(null);
                  }}
                  placeholder={'ABC-123: Summary of the ticket\nPriority: High\nDescription:\nWhat happened…'}
                />
              )}
            </Field>
            <div className="flex flex-wrap items-center gap-3">
              <Button type="submit" variant="primary" busy={busy}>
                {busy ? 'Analyzing…' : 'Analyze & Submit Ticket'}
              </Button>
              {text && (
                <Button variant="ghost" onClick={() => { setText(''); setResult(null); setError(null); }}>
                  Clear
                </Button>
              )}
            </div>
          </form>
        </Card>

        <div className="space-y-6">
          <Card title="What the agent reads" description={result ? 'As submitted.' : 'Updates as you type; nothing is submitted until you press the button.'} actions={previewing && !result ? <Spinner label="Reading…" /> : undefined}>
            {shown ? (
              <dl className="grid grid-cols-[auto_minmax(0,1fr)] gap-x-4 gap-y-2 text-sm" data-testid="ticket-fields">
                <dt className="text-gray-600">Key</dt>
                <dd className="font-mono font-medium" data-testid="ticket-key">{shown.ticket.key ?? '—'}</dd>
                <dt className="text-gray-600">Summary</dt>
                <dd className="font-medium break-words" data-testid="ticket-summary">{shown.ticket.summary || '—'}</dd>
                <dt className="text-gray-600">Priority</dt>
                <dd data-testid="ticket-priority">
                  <span className={cx('rounded-full px-2 py-0.5 text-xs font-medium capitalize ring-1 ring-inset', shown.ticket.priority === 'high' ? 'bg-brand-50 text-brand-700 ring-brand-200' : 'bg-gray-100 text-gray-800 ring-gray-300')}>
                    {shown.ticket.priority}
                  </span>
                  {shown.ticket.jira_priority && <span className="ml-2 text-xs text-gray-600">Jira: {shown.ticket.jira_priority}</span>}
                </dd>
                <dt className="text-gray-600">Reporter</dt>
                <dd className="break-all">{shown.ticket.reporter_email ?? '—'}</dd>
                <dt className="text-gray-600">Description</dt>
                <dd className="max-h-48 overflow-auto whitespace-pre-wrap break-words text-gray-800" data-testid="ticket-description">
                  {shown.ticket.description || '—'}
                </dd>
              </dl>
            ) : (
              <p className="text-sm text-gray-600">Paste a ticket, or load one of the examples.</p>
            )}
            {preview && !result && (
              <p className="mt-4 border-t border-gray-100 pt-3 text-sm text-gray-700">
                <span className="font-medium">{preview.triggered ? 'Would trigger:' : 'Would not trigger:'}</span> {preview.reason}
              </p>
            )}
          </Card>
          <Card title="Result">
            <div ref={resultBox} aria-live="polite" aria-atomic="true" className="space-y-3">
              {error && <Alert kind="error" title="The ticket was not submitted">{error}</Alert>}
              {result && <DecisionResult decision={result} />}
              {result && !result.triggered && <p className="text-sm text-gray-600">Nothing was submitted.</p>}
              {!error && !result && <p className="text-sm text-gray-600">{busy ? 'Analyzing…' : 'The decision appears here after “Analyze & Submit Ticket”.'}</p>}
            </div>
          </Card>
        </div>
      </div>
    </>
  );
}
