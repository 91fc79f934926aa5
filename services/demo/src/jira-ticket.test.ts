import assert from 'node:assert/strict';
import { MAX_SUMMARY_LENGTH, mapJiraPriority, parseJiraTicket } from './jira-ticket.ts';

describe('Jira ticket parser', () => {
  it('reads labelled lines, with a multi-line description that runs to the next label', () => {
    const ticket = parseJiraTicket(
      [
        'Key: SUP-4711',
        'Summary: Checkout fails for EU customers',
        'Priority: Highest',
        'Reporter: Jane Doe <jane.doe@acme.test>',
        'Description: Since the 10:00 deploy,',
        'every EU card payment is declined.',
        '',
        'Roughly 300 orders are affected.',
        'Status: Open',
      ].join('\n'),
    );
    assert.deepEqual(ticket, {
      key: 'SUP-4711',
      summary: 'Checkout fails for EU customers',
      priority: 'high',
      jiraPriority: 'Highest',
      description: 'Since the 10:00 deploy,\nevery EU card payment is declined.\n\nRoughly 300 orders are affected.',
      reporterEmail: 'jane.doe@acme.test',
    });
  });

  it('takes the key and summary from a first line "ABC-123: summary"', () => {
    const ticket = parseJiraTicket('OPS-12: Nightly export is late\nPriority: Low\nDescription:\nThe export finished 20 minutes late.');
    assert.equal(ticket.key, 'OPS-12');
    assert.equal(ticket.summary, 'Nightly export is late');
    assert.equal(ticket.priority, 'low');
    assert.equal(ticket.description, 'The export finished 20 minutes late.');
  });

  it('understands "[ABC-123] summary" and "ABC-123 - summary"', () => {
    assert.deepEqual(pick(parseJiraTicket('[WEB-9] Logo is blurry on retina screens')), { key: 'WEB-9', summary: 'Logo is blurry on retina screens' });
    assert.deepEqual(pick(parseJiraTicket('WEB_2-77 - Footer overlaps content')), { key: 'WEB_2-77', summary: 'Footer overlaps content' });
  });

  it("reads Jira's issue view copy: the key alone, the summary below it, labels alone with values underneath", () => {
    const ticket = parseJiraTicket(
      [
        'https://acme.atlassian.net/browse/PAY-301',
        'PAY-301',
        'Refund button does nothing',
        'Details',
        'Type:',
        'Bug',
        'Priority:',
        'Medium',
        'Description',
        'Clicking Refund shows a spinner forever.',
        'The customer is angry.',
        'Activity',
        'Bob: this is urgent for us',
      ].join('\n'),
    );
    assert.equal(ticket.key, 'PAY-301');
    assert.equal(ticket.summary, 'Refund button does nothing');
    assert.equal(ticket.priority, 'normal');
    assert.equal(ticket.jiraPriority, 'Medium');
    assert.equal(ticket.description, 'Clicking Refund shows a spinner forever.\nThe customer is angry.');
  });

  it('accepts bold and heading markup and tab-separated fields', () => {
    const ticket = parseJiraTicket(['**Summary:** Search is slow', '*Priority*:\tLowest', 'h2. Description', 'Takes 4 s on big catalogs.', 'Issue key\tCAT-88'].join('\n'));
    assert.equal(ticket.summary, 'Search is slow');
    assert.equal(ticket.priority, 'low');
    assert.equal(ticket.jiraPriority, 'Lowest');
    assert.equal(ticket.description, 'Takes 4 s on big catalogs.');
    assert.equal(ticket.key, 'CAT-88');
  });

  it('handles Windows line endings', () => {
    const ticket = parseJiraTicket('Summary: A\r\nPriority: High\r\nDescription: B\r\nC');
    assert.deepEqual(pick(ticket), { key: null, summary: 'A' });
    assert.equal(ticket.priority, 'high');
    assert.equal(ticket.description, 'B\nC');
  });

  it('treats plain text as summary (first line) and description (the rest), at normal priority', () => {
    const ticket = parseJiraTicket('Customer cannot log in\n\nThey tried resetting the password twice.');
    assert.deepEqual(ticket, {
      key: null,
      summary: 'Customer cannot log in',
      priority: 'normal',
      jiraPriority: null,
      description: 'They tried resetting the password twice.',
      reporterEmail: null,
    });
  });

  it('finds the key in a /browse/ link when nothing else names it', () => {
    assert.equal(parseJiraTicket('Summary: Broken\nSee https://acme.atlassian.net/browse/ABC-123 for logs').key, 'ABC-123');
  });

  it('does not mistake an ordinary word with a hyphen in the description for a key', () => {
    assert.equal(parseJiraTicket('Summary: Mail garbled\nDescription: The body is not UTF-8 encoded.').key, null);
  });

  it('keeps the first value when a label repeats, and ignores comments', () => {
    const ticket = parseJiraTicket('Summary: First\nSummary: Second\nDescription: Body\nComments\nPriority: High is what Bob wants');
    assert.equal(ticket.summary, 'First');
    assert.equal(ticket.description, 'Body');
  });

  it('caps the summary length, and returns empty fields for empty text', () => {
    assert.equal(parseJiraTicket(`Summary: ${'x'.repeat(400)}`).summary.length, MAX_SUMMARY_LENGTH);
    assert.deepEqual(parseJiraTicket('  \n '), { key: null, summary: '', priority: 'normal', jiraPriority: null, description: '', reporterEmail: null });
  });

  it('maps Jira priority names to the demo levels', () => {
    const cases: [string | null, string][] = [
      ['Highest', 'high'],
      ['High', 'high'],
      ['Blocker', 'high'],
      ['Critical', 'high'],
      ['P1 - Critical', 'high'],
      ['Medium', 'normal'],
      ['Major', 'normal'],
      ['Low', 'low'],
      ['Lowest', 'low'],
      ['Trivial', 'low'],
      ['⬇ Low', 'low'],
      ['whatever', 'normal'],
      [null, 'normal'],
    ];
    for (const [raw, expected] of cases) assert.equal(mapJiraPriority(raw), expected, String(raw));
  });
});

function pick(ticket: { key: string | null; summary: string }) {
  return { key: ticket.key, summary: ticket.summary };
}
