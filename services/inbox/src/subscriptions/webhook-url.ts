import { TriggersError, checkWebhookUrl, type SsrfAllow } from '@triggers/core/domain';

/**
 * The URL as the SSRF policy judged it (normalised by the URL parser, so the deliverer connects to
 * exactly what was checked), or `invalid_webhook_url` with the policy's reason.
 */
export function requireAllowedWebhookUrl(url: string, allow: SsrfAllow): string {
  const check = checkWebhookUrl(url, allow);
  if (!check.ok) throw new TriggersError('invalid_webhook_url', { detail: `webhook_url ${check.reason}.` });
  return check.url.href;
}
