import { TriggersError, isUuid } from '@triggers/core/domain';

/**
 * The id from a path, lower-cased, or a 404 that reads exactly like an unknown id's: a malformed
 * id, another customer's id and a random one must be indistinguishable.
 */
export function idFromPath(value: string, notFound: () => TriggersError): string {
  const id = value.toLowerCase();
  if (!isUuid(id)) throw notFound();
  return id;
}

export const eventNotFound = () => new TriggersError('not_found', { detail: 'No such event.' });
export const subscriptionNotFound = () => new TriggersError('not_found', { detail: 'No such subscription.' });
export const customerNotFound = () => new TriggersError('not_found', { detail: 'No such customer.' });
export const apiKeyNotFound = () => new TriggersError('not_found', { detail: 'No such API key, or it is already revoked.' });
