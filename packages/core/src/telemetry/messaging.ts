import { ROOT_CONTEXT, type Attributes } from '@opentelemetry/api';
import type { ReceivedMessage, Topic } from '../ports/queue.ts';
import { SpanKind, contextFromTraceparent, inSpan, messagingSystem, tracingActive, untraced, type Span } from './tracing.ts';

/**
 * The CONSUMER span of one queue message (`process <topic>`), continuing the trace whose
 * `traceparent` the message carries (in its body, on every queue backend), so ingest → matcher →
 * deliverer is one trace. Attributes per the OTel messaging conventions, plus `extra` (ids only).
 * With tracing off, `work` runs at once and nothing is built.
 */
export function processMessageSpan<T extends { traceparent?: string }, R>(
  queueKind: string,
  topic: Topic,
  message: ReceivedMessage<T>,
  extra: Attributes,
  work: (span: Span) => Promise<R>,
): Promise<R> {
  if (!tracingActive()) return untraced(work);
  // One object, written once: the span keeps it as its attribute map.
  const attributes: Attributes = {
    'messaging.system': messagingSystem(queueKind),
    'messaging.destination.name': topic,
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
    'messaging.message.id': message.id,
    'triggers.receive_count': message.receiveCount,
  };
  for (const key in extra) attributes[key] = extra[key];
  return inSpan(`process ${topic}`, { kind: SpanKind.CONSUMER, parent: contextFromTraceparent(message.body.traceparent, ROOT_CONTEXT), attributes }, work);
}

/** The PRODUCER span around enqueueing (`send <topic>`); its context is what the messages carry. */
export function sendMessagesSpan<R>(queueKind: string | undefined, topic: Topic, count: number, extra: Attributes, work: (span: Span) => Promise<R>): Promise<R> {
  if (!tracingActive()) return untraced(work);
  const attributes: Attributes = {
    'messaging.destination.name': topic,
    'messaging.operation.type': 'send',
    'messaging.operation.name': 'send',
  };
  if (queueKind) attributes['messaging.system'] = messagingSystem(queueKind);
  if (count > 1) attributes['messaging.batch.message_count'] = count;
  for (const key in extra) attributes[key] = extra[key];
  return inSpan(`send ${topic}`, { kind: SpanKind.PRODUCER, attributes }, work);
}
