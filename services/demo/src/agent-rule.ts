/**
 * The demo agent's rule (API.md "Demo"): trigger when the priority is high or the text has an
 * urgent keyword. Keywords match as whole words, case-insensitively: "URGENT!" counts,
 * "urgently" and "de-escalated" do not.
 */

export const PRIORITIES = ['low', 'normal', 'high'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const URGENT_KEYWORDS = ['angry', 'urgent', 'critical', 'escalate', 'emergency'] as const;

export interface AgentDecision {
  triggered: boolean;
  /** One sentence for people: why it did or did not trigger. */
  reason: string;
  /** The urgent keywords found, lower-case, in the order of URGENT_KEYWORDS. */
  keywords: string[];
}

// A keyword is a whole word when no letter, digit, underscore or hyphen touches it.
const KEYWORD_PATTERN = new RegExp(`(?<![\\p{L}\\p{N}_-])(${URGENT_KEYWORDS.join('|')})(?![\\p{L}\\p{N}_-])`, 'giu');

/** The urgent keywords in `text`, each once, lower-case. */
export function findUrgentKeywords(text: string): string[] {
  const found = new Set<string>();
  for (const match of text.matchAll(KEYWORD_PATTERN)) found.add(match[1].toLowerCase());
  return URGENT_KEYWORDS.filter((keyword) => found.has(keyword));
}

/**
 * Decides whether to trigger. `subject` names the text in the reason ("Description" for the
 * composer, "Ticket" for a Jira ticket).
 */
export function decideTrigger(input: { priority: Priority; description: string; subject?: string }): AgentDecision {
  const subject = input.subject ?? 'Description';
  const keywords = findUrgentKeywords(input.description);
  const quoted = keywords.map((k) => `"${k}"`).join(', ');
  const keywordClause = `${keywords.length === 1 ? 'urgent keyword' : 'urgent keywords'} ${quoted}`;
  if (input.priority === 'high') {
    const reason = keywords.length > 0 ? `Priority is high and the ${subject.toLowerCase()} contains ${keywordClause}` : 'Priority is high';
    return { triggered: true, reason, keywords };
  }
  if (keywords.length > 0) return { triggered: true, reason: `${subject} contains ${keywordClause}`, keywords };
  return { triggered: false, reason: `Priority is ${input.priority} and no urgent keywords detected`, keywords };
}
