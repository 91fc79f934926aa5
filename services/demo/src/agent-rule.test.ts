import assert from 'node:assert/strict';
import { decideTrigger, findUrgentKeywords, URGENT_KEYWORDS } from './agent-rule.ts';

describe('Demo agent rule', () => {
  it('triggers on high priority, whatever the description says', () => {
    assert.deepEqual(decideTrigger({ priority: 'high', description: 'All calm here.' }), { triggered: true, reason: 'Priority is high', keywords: [] });
  });

  it('triggers on every urgent keyword at low and normal priority', () => {
    for (const keyword of URGENT_KEYWORDS) {
      for (const priority of ['low', 'normal'] as const) {
        const decision = decideTrigger({ priority, description: `The customer says this is ${keyword}.` });
        assert.equal(decision.triggered, true, `${keyword} at ${priority}`);
        assert.equal(decision.reason, `Description contains urgent keyword "${keyword}"`);
        assert.deepEqual(decision.keywords, [keyword]);
      }
    }
  });

  it('does not trigger on a calm low or normal priority description, and says why', () => {
    assert.deepEqual(decideTrigger({ priority: 'low', description: 'Please update the invoice address when convenient.' }), {
      triggered: false,
      reason: 'Priority is low and no urgent keywords detected',
      keywords: [],
    });
    assert.equal(decideTrigger({ priority: 'normal', description: '' }).reason, 'Priority is normal and no urgent keywords detected');
  });

  it('matches keywords case-insensitively, next to punctuation and at the ends of the text', () => {
    assert.deepEqual(findUrgentKeywords('URGENT!'), ['urgent']);
    assert.deepEqual(findUrgentKeywords('Critical: the site is down'), ['critical']);
    assert.deepEqual(findUrgentKeywords('(Angry) customer, please Escalate.'), ['angry', 'escalate']);
    assert.deepEqual(findUrgentKeywords('line one\nemergency'), ['emergency']);
    assert.deepEqual(findUrgentKeywords('"urgent"'), ['urgent']);
  });

  it('matches whole words only', () => {
    for (const text of ['urgently', 'non-urgent', 'de-escalate', 'escalated', 'escalation', 'criticality', 'angrygram', 'emergency_stop', 'supercritical', 'urgent2']) {
      assert.deepEqual(findUrgentKeywords(text), [], text);
      assert.equal(decideTrigger({ priority: 'normal', description: text }).triggered, false, text);
    }
  });

  it('lists several keywords once each, in a stable order, and names them in the reason', () => {
    const decision = decideTrigger({ priority: 'normal', description: 'Emergency! The customer is angry, angry, ANGRY.' });
    assert.deepEqual(decision.keywords, ['angry', 'emergency']);
    assert.equal(decision.reason, 'Description contains urgent keywords "angry", "emergency"');
  });

  it('mentions both reasons when the priority is high and keywords are present', () => {
    assert.equal(decideTrigger({ priority: 'high', description: 'critical' }).reason, 'Priority is high and the description contains urgent keyword "critical"');
  });

  it('names the text it looked at', () => {
    assert.equal(decideTrigger({ priority: 'low', description: 'urgent', subject: 'Ticket' }).reason, 'Ticket contains urgent keyword "urgent"');
  });
});
