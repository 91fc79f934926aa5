import type { EventSelector, Subscription } from '@triggers/sdk';
import { parseJsonArgument, table, type CommandContext } from '../context.ts';
import { UsageError } from '../exit-codes.ts';

export interface SelectorFlags {
  eventType?: string;
  selector?: string;
}

/** `--event-type T` or `--selector JSON` (exactly one) as a selector. */
export function selectorFromFlags(flags: SelectorFlags, required: boolean): EventSelector | undefined {
  if (flags.eventType !== undefined && flags.selector !== undefined) throw new UsageError('Give --event-type or --selector, not both.');
  if (flags.eventType !== undefined) return { type: 'event_type', value: flags.eventType };
  if (flags.selector !== undefined) return parseJsonArgument(flags.selector, '--selector') as EventSelector;
  if (required) throw new UsageError('Give --event-type TYPE or --selector JSON.');
  return undefined;
}

export async function subscriptionsListCommand(ctx: CommandContext): Promise<void> {
  const subscriptions: Subscription[] = [];
  for await (const subscription of ctx.client().subscriptions.iterate()) {
    if (ctx.json) ctx.printJson(subscription, true);
    else subscriptions.push(subscription);
  }
  if (ctx.json) return;
  if (subscriptions.length === 0) return ctx.line('(no subscriptions)');
  ctx.line(
    table(
      ['SUBSCRIPTION', 'STATUS', 'WEBHOOK URL', 'SELECTOR'],
      subscriptions.map((s) => [s.workflow_id, s.status, s.webhook_url, JSON.stringify(s.event_selector)]),
    ),
  );
}

export async function subscriptionsCreateCommand(ctx: CommandContext, flags: SelectorFlags & { webhookUrl: string; description?: string }): Promise<void> {
  const selector = selectorFromFlags(flags, true)!;
  const created = await ctx.client().subscriptions.create({ event_selector: selector, webhook_url: flags.webhookUrl, description: flags.description });
  if (ctx.json) return ctx.printJson(created);
  ctx.line(`Created subscription ${created.workflow_id}`);
  ctx.line(`Signing secret (shown only now): ${created.secret}`);
}

export async function subscriptionsRotateSecretCommand(ctx: CommandContext, workflowId: string): Promise<void> {
  const rotated = await ctx.client().subscriptions.rotateSecret(workflowId);
  if (ctx.json) return ctx.printJson(rotated);
  ctx.line(`New signing secret: ${rotated.secret}`);
  ctx.line(`The previous secret keeps signing too until ${rotated.previous_secret_expires_at}.`);
}

export async function subscriptionsDisableCommand(ctx: CommandContext, workflowId: string): Promise<void> {
  const updated = await ctx.client().subscriptions.disable(workflowId);
  if (ctx.json) return ctx.printJson(updated);
  ctx.line(`Disabled subscription ${updated.workflow_id}.`);
}

export async function subscriptionsDeleteCommand(ctx: CommandContext, workflowId: string): Promise<void> {
  await ctx.client().subscriptions.delete(workflowId);
  if (ctx.json) return ctx.printJson({ workflow_id: workflowId, deleted: true });
  ctx.line(`Deleted subscription ${workflowId}.`);
}
