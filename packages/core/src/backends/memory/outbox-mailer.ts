import { systemClock, type Clock } from '../../clock.ts';
import { uuidv7 } from '../../ids.ts';
import type { MailMessage, MailOutbox, Mailer, OutboxMessage, SentMail } from '../../ports/mailer.ts';

/** The outbox in this process's memory (the newest `capacity` messages): when there is no SQLite file. */
export class MemoryOutboxMailer implements Mailer, MailOutbox {
  readonly kind = 'outbox';
  private readonly messages: OutboxMessage[] = [];

  constructor(private readonly from: string, private readonly clock: Clock = systemClock, private readonly capacity = 500) {}

  async send(message: MailMessage): Promise<SentMail> {
    const createdAt = this.clock.now();
    const stored: OutboxMessage = { ...message, id: uuidv7(createdAt), from: this.from, createdAt };
    this.messages.unshift(stored);
    this.messages.length = Math.min(this.messages.length, this.capacity);
    return { id: stored.id, provider: this.kind };
  }

  async list(limit: number): Promise<OutboxMessage[]> {
    return this.messages.slice(0, limit).map((m) => ({ ...m }));
  }
}
