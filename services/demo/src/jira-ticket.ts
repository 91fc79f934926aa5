import type { Priority } from './agent-rule.ts';

/**
 * Reads a Jira ticket pasted as text. Robust to the shapes people paste:
 * - labelled lines: `Summary: ...`, `Priority: High`, `Description: ...` (also `**Priority:**`,
 *   `h2. Description`, `Priority<TAB>High` from a copied table);
 * - a label alone on its line with its value below (Jira's issue view copies like that);
 * - a first line `ABC-123: summary`, `[ABC-123] summary`, `ABC-123 - summary`, or the key alone
 *   with the summary on the next line; a `/browse/ABC-123` link;
 * - plain text: the first line is the summary, the rest the description.
 * Never throws; fields it cannot find are null or empty.
 */

export interface JiraTicket {
  /** `ABC-123`, or null when the text names none. */
  key: string | null;
  summary: string;
  /** The demo's priority, mapped from Jira's (Highest/High → high, Medium → normal, Low/Lowest → low). */
  priority: Priority;
  /** The priority as the ticket wrote it, or null when it has none. */
  jiraPriority: string | null;
  description: string;
  /** An email address on the Reporter line, if any. */
  reporterEmail: string | null;
}

export const MAX_SUMMARY_LENGTH = 255;
export const MAX_DESCRIPTION_LENGTH = 10_000;

/** `other` labels hold one value we ignore; a `section` (comments, activity...) runs to the next label. */
type Field = 'key' | 'summary' | 'priority' | 'description' | 'reporter' | 'other' | 'section';

/** Label words (lower-case) → the field they introduce. Any label ends a description. */
const LABELS: Record<string, Field> = {
  key: 'key',
  'issue key': 'key',
  issue: 'key',
  ticket: 'key',
  'ticket id': 'key',
  id: 'key',
  summary: 'summary',
  title: 'summary',
  subject: 'summary',
  priority: 'priority',
  severity: 'priority',
  description: 'description',
  details: 'other',
  reporter: 'reporter',
  'reported by': 'reporter',
  status: 'other',
  type: 'other',
  'issue type': 'other',
  assignee: 'other',
  labels: 'other',
  components: 'other',
  component: 'other',
  'component/s': 'other',
  created: 'other',
  updated: 'other',
  resolved: 'other',
  resolution: 'other',
  environment: 'other',
  sprint: 'other',
  'story points': 'other',
  'fix version': 'other',
  'fix versions': 'other',
  'fix version/s': 'other',
  'affects version': 'other',
  'affects versions': 'other',
  'affects version/s': 'other',
  'due date': 'other',
  project: 'other',
  epic: 'other',
  'epic link': 'other',
  watchers: 'section',
  votes: 'section',
  comments: 'section',
  comment: 'section',
  activity: 'section',
  attachments: 'section',
  'linked issues': 'section',
  'issue links': 'section',
  'sub-tasks': 'section',
  subtasks: 'section',
  'time tracking': 'section',
};

const LABEL_ALTERNATIVES = Object.keys(LABELS)
  .sort((a, b) => b.length - a.length)
  .map((label) => label.replace(/[/-]/g, (c) => `\\${c}`))
  .join('|');

/**
 * A label line: optional heading markup (`h2.`, `##`), optional bold/italic marks, the label, then
 * a colon (value may follow), a tab (value follows), or the end of the line (value on next lines).
 */
const LABEL_LINE = new RegExp(
  `^\\s*(?:h[1-6]\\.\\s*|#{1,6}\\s+)?[*_]{0,2}\\s*(${LABEL_ALTERNATIVES})\\s*[*_]{0,2}\\s*(?:(?:[:：]|\\t)[*_]{0,2}\\s*(.*)|)$`,
  'i',
);

const KEY = /^[A-Z][A-Z0-9_]{1,9}-[1-9]\d{0,8}$/;
const KEY_IN_TEXT = /\b([A-Z][A-Z0-9_]{1,9}-[1-9]\d{0,8})\b/;
/** `ABC-123: summary`, `[ABC-123] summary`, `ABC-123 - summary`, `ABC-123 summary`, `ABC-123`. */
const KEY_FIRST_LINE = /^\s*\[?([A-Z][A-Z0-9_]{1,9}-[1-9]\d{0,8})\]?(?:\s*[:|–—-]\s*|\s+|$)(.*)$/;
const BROWSE_LINK = /\/browse\/([A-Z][A-Z0-9_]{1,9}-[1-9]\d{0,8})\b/;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/;

interface LabelMatch {
  field: Field;
  /** The text after the colon or tab; null when the label stands alone on its line. */
  value: string | null;
}

function matchLabel(line: string): LabelMatch | null {
  const match = LABEL_LINE.exec(line);
  if (!match) return null;
  const field = LABELS[match[1].toLowerCase()];
  if (match[2] === undefined) return { field, value: null };
  return { field, value: stripMarkup(match[2]) };
}

function stripMarkup(value: string): string {
  return value.replace(/^[*_\s]+|[*_\s]+$/g, '').trim();
}

/** Maps a Jira priority name (or P0–P4, Blocker, Critical, ...) to the demo's three levels. */
export function mapJiraPriority(raw: string | null): Priority {
  if (!raw) return 'normal';
  const words = raw.toLowerCase().match(/[a-z]+\d*|\d+/g) ?? [];
  for (const word of words) {
    if (['highest', 'high', 'blocker', 'critical', 'urgent', 'p0', 'p1'].includes(word)) return 'high';
    if (['medium', 'normal', 'major', 'moderate', 'p2'].includes(word)) return 'normal';
    if (['low', 'lowest', 'minor', 'trivial', 'p3', 'p4', 'p5'].includes(word)) return 'low';
  }
  return 'normal';
}

export function parseJiraTicket(text: string): JiraTicket {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const fields: Partial<Record<Exclude<Field, 'other' | 'description'>, string>> = {};
  const descriptionLines: string[] = [];
  const looseLines: string[] = [];
  /** Where unlabelled lines go: the description after its label, a pending single value, or loose text. */
  let mode: { kind: 'loose' } | { kind: 'description' } | { kind: 'value'; field: Exclude<Field, 'description' | 'section'> } | { kind: 'section' } = {
    kind: 'loose',
  };

  for (const line of lines) {
    const label = matchLabel(line);
    if (label) {
      if (label.field === 'description') {
        if (label.value) descriptionLines.push(label.value);
        mode = { kind: 'description' };
      } else if (label.field === 'section') {
        mode = { kind: 'section' };
      } else if (label.value !== null && label.value !== '') {
        if (label.field !== 'other') fields[label.field] ??= label.value;
        mode = { kind: 'loose' };
      } else {
        mode = { kind: 'value', field: label.field };
      }
      continue;
    }
    if (mode.kind === 'description') {
      descriptionLines.push(line);
    } else if (mode.kind === 'value') {
      if (line.trim() === '') continue;
      if (mode.field !== 'other') fields[mode.field] ??= stripMarkup(line);
      mode = { kind: 'loose' };
    } else if (mode.kind === 'section') {
      // Comments, activity and the like are not the ticket's own text.
    } else {
      looseLines.push(line);
    }
  }

  // The key: a labelled one, else the first line's, else a /browse/ link.
  let key = fields.key ? (KEY_IN_TEXT.exec(fields.key)?.[1] ?? null) : null;
  // A line that is only a link (the ticket's own URL) is neither summary nor description.
  const loose = looseLines.map((l) => l.trim()).filter((l) => l !== '' && !/^<?https?:\/\/\S+>?$/.test(l));
  let summary = fields.summary ?? '';
  const firstLine = loose[0];
  if (firstLine !== undefined) {
    const keyed = KEY_FIRST_LINE.exec(firstLine);
    if (keyed && KEY.test(keyed[1])) {
      key ??= keyed[1];
      loose.shift();
      const rest = stripMarkup(keyed[2] ?? '');
      if (!summary) summary = rest || (loose.shift() ?? '');
    }
  }
  key ??= BROWSE_LINK.exec(text)?.[1] ?? null;
  if (!summary && loose.length > 0) summary = loose.shift()!;

  let description = trimBlankLines(descriptionLines).join('\n').trim();
  // Without a labelled description, the unlabelled text is it.
  if (description === '') description = loose.join('\n').trim();

  const jiraPriority = fields.priority ? fields.priority.slice(0, 40) : null;
  const reporterEmail = fields.reporter ? (EMAIL.exec(fields.reporter)?.[0] ?? null) : null;
  return {
    key,
    summary: summary.replace(/\s+/g, ' ').trim().slice(0, MAX_SUMMARY_LENGTH),
    priority: mapJiraPriority(jiraPriority),
    jiraPriority,
    description: description.slice(0, MAX_DESCRIPTION_LENGTH),
    reporterEmail,
  };
}

function trimBlankLines(lines: string[]): string[] {
  let start = 0;
  let end = lines.length;
  while (start < end && lines[start].trim() === '') start++;
  while (end > start && lines[end - 1].trim() === '') end--;
  return lines.slice(start, end);
}
