import type { KeepAlive } from "./bid-batcher";
import { Handoff } from "./handoff";

/** Longer than any healthy object read; only a call lost with its request's context takes this long. */
const JOIN_TIMEOUT_MS = 5_000;

/**
 * Concurrent identical reads in one isolate share one object call: a crowd
 * refreshing the same board costs one round trip per moment, not one each.
 * A read that joins gets an answer at most one round trip old. If the call it
 * joined fails or is lost with its request, it reads on its own.
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Handoff<T>>();

  async read(key: string, read: () => Promise<T>, keepAlive: KeepAlive): Promise<T> {
    const current = this.inFlight.get(key);
    if (current) {
      const joined = await current.wait(JOIN_TIMEOUT_MS);
      return joined.ok ? joined.value : read();
    }
    const handoff = new Handoff<T>();
    this.inFlight.set(key, handoff);
    const call = read();
    keepAlive(call);
    try {
      const value = await call;
      handoff.settle({ ok: true, value });
      return value;
    } catch (error) {
      handoff.settle({ ok: false, error });
      throw error;
    } finally {
      if (this.inFlight.get(key) === handoff) this.inFlight.delete(key);
    }
  }
}
