// Work over many items a few at a time, so opening a thousand connections
// does not become a thousand handshakes at once.

/** Calls `work` on each item in order, at most `concurrency` calls at a time; rejects with the first failure. */
export async function forEachConcurrently<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  const queue = items.entries();
  const worker = async () => {
    for (const [index, item] of queue) await work(item, index);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
