import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';

/** An item as the document client returns it. */
export type Item = Record<string, unknown>;

/** Follows `LastEvaluatedKey` until the range is read or `max` items are collected. */
export async function queryAll(doc: DynamoDBDocumentClient, input: QueryCommandInput, max = Infinity): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const remaining = max - items.length;
    const page = await doc.send(
      new QueryCommand({ ...input, ExclusiveStartKey: startKey, ...(Number.isFinite(remaining) ? { Limit: Math.max(1, remaining) } : {}) }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey && items.length < max);
  return items.length > max ? items.slice(0, max) : items;
}

/** `work` over every input, at most `concurrency` at a time; results in input order. */
export async function mapLimit<T, R>(inputs: readonly T[], concurrency: number, work: (input: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(inputs.length);
  let next = 0;
  const worker = async () => {
    while (next < inputs.length) {
      const i = next++;
      results[i] = await work(inputs[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, inputs.length) }, worker));
  return results;
}

/** Merges lists that are each sorted by `compare` and keeps the first `max`. */
export function mergeSorted<T>(lists: T[][], compare: (a: T, b: T) => number, max: number): T[] {
  return lists.flat().sort(compare).slice(0, max);
}
