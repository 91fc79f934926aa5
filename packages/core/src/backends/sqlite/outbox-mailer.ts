import type { Statement } from 'better-sqlite3';
import { systemClock, type Clock } from '../../clock.ts';
import { uuidv7 } from '../../ids.ts';
import type { MailMessage, MailOutbox, Mailer, OutboxMessage, SentMail } from '../../ports/mailer.ts';
import type { SqliteDatabase } from './database.ts';
import { withSqlite } from './errors.ts';

interface OutboxRow {
  message_id: string;
  from_address: string;
  to_address: string;
  subject: string;
  text_body: string;
  html_body: string | null;
  created_at: number;
}

/** The default Mailer: nothing leaves the machine; messages land in `mail_outbox` for the console. */
export class SqliteOutboxMailer implements Mailer, MailOutbox {
  readonly kind = 'outbox';
  private readonly insert: Statement<[string, string, string, string, string, string | null, number]>;
  private readonly selectLatest: Statement<[number], OutboxRow>;

  constructor(db: SqliteDatabase, private readonly from: string, private readonly clock: Clock = systemClock) {
    this.insert = db.prepare(
      'INSERT INTO mail_outbox (message_id, from_address, to_address, subject, text_body, html_body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.selectLatest = db.prepare('SELECT * FROM mail_outbox ORDER BY created_at DESC, message_id DESC LIMIT ?');
  }

  async send(message: MailMessage): Promise<SentMail> {
    const now = this.clock.now();
    const id = uuidv7(now);
    withSqlite('storing an outbox message', () =>
      this.insert.run(id, this.from, message.to, message.subject, message.text, message.html ?? null, now),
    );
    return { id, provider: this.kind };
  }

  async list(limit: number): Promise<OutboxMessage[]> {
    const rows = withSqlite('reading the outbox', () => this.selectLatest.all(limit));
    return rows.map((row) => ({
      id: row.message_id,
      from: row.from_address,
      to: row.to_address,
      subject: row.subject,
      text: row.text_body,
      ...(row.html_body === null ? {} : { html: row.html_body }),
      createdAt: Number(row.created_at),
    }));
  }
}
