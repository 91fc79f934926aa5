import { ROOT_CONTEXT, type Attributes } from '@opentelemetry/api';
import type { ReceivedMessage, Topic } from '../ports/queue.ts';
import { SpanKind, contextFromTraceparent, inSpan, messagingSystem, tracingActive, type Span } from './tracing.ts';

/**
 * The CONSUMER span of one queue message (`process <topic>`), continuing the trace whose
 * `traceparent` the message carries (in its body, on every queue backend), so ingest → matcher →
 * deliverer is one trace. Attributes per the OTel messaging conventions, plus `extra` (ids only).
 */
export function processMessageSpan<T extends { traceparent?: string }, R>(
  queueKind: string,
  topic: Topic,
  message: ReceivedMessage<T>,
  extra: Attributes,
  work: (span: Span) => Promise<R>,
): Promise<R> {
  if (!tracingActive()) return inSpan(`process ${topic}`, { kind: SpanKind.CONSUMER }, work);
  return inSpan(
    `process ${topic}`,
    {
      kind: SpanKind.CONSUMER,
      parent: contextFromTraceparent(message.body.traceparent, ROOT_CONTEXT),
      attributes: {
        'messaging.system': messagingSystem(queueKind),
        'messaging.destination.name': topic,
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.message.id': message.id,
        'triggers.receive_count': message.receiveCount,
        ...extra,
      },
    },
    work,
  );
}

/** The PRODUCER span around enqueueing (`send <topic>`); its context is what the messages carry. */
export function sendMessagesSpan<R>(queueKind: string | undefined, topic: Topic, count: number, extra: Attributes, work: (span: Span) => Promise<R>): Promise<R> {
  if (!tracingActive()) return inSpan(`send ${topic}`, { kind: SpanKind.PRODUCER }, work);
  return inSpan(
    `send ${topic}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        ...(queueKind ? { 'messaging.system': messagingSystem(queueKind) } : {}),
        'messaging.destination.name': topic,
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'send',
        ...(count > 1 ? { 'messaging.batch.message_count': count } : {}),
        ...extra,
      },
    },
    work,
  );
}
