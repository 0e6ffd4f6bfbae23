/**
 * Calls that reach the object in the same turn of its event loop join one
 * batch, decided by one `run` once that turn ends. Unlike requests in a
 * stateless Worker, an object's calls share its one context, so they may
 * wait on one promise.
 */
export class CallBatcher<Item, Answer> {
  private open: { items: Item[]; answers: Promise<Answer[]> } | null = null;

  constructor(private readonly run: (items: Item[]) => Promise<Answer[]>) {}

  /** The answers to `items`, in order, from the batch they joined. */
  async join(items: readonly Item[]): Promise<Answer[]> {
    let batch = this.open;
    if (!batch) {
      const opened: { items: Item[]; answers: Promise<Answer[]> } = {
        items: [],
        answers: Promise.resolve([]),
      };
      opened.answers = new Promise((resolve, reject) => {
        setTimeout(() => {
          if (this.open === opened) this.open = null;
          this.run(opened.items).then(resolve, reject);
        }, 0);
      });
      this.open = opened;
      batch = opened;
    }
    const start = batch.items.length;
    batch.items.push(...items);
    const answers = await batch.answers;
    return answers.slice(start, start + items.length);
  }
}
