import { describe, expect, it } from "vitest";
import { CallBatcher } from "../../src/objects/call-batcher";

describe("CallBatcher", () => {
  it("joins the calls of one turn into one batch and answers each its own slice, in order", async () => {
    const batches: number[][] = [];
    const batcher = new CallBatcher<number, string>(async (items) => {
      batches.push([...items]);
      return items.map((item) => `answer ${item}`);
    });
    const answers = await Promise.all([batcher.join([1, 2]), batcher.join([3]), batcher.join([4, 5, 6])]);
    expect(batches).toEqual([[1, 2, 3, 4, 5, 6]]);
    expect(answers).toEqual([["answer 1", "answer 2"], ["answer 3"], ["answer 4", "answer 5", "answer 6"]]);
  });

  it("starts a new batch for calls that arrive while one is being decided", async () => {
    const batches: number[][] = [];
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const batcher = new CallBatcher<number, number>(async (items) => {
      batches.push([...items]);
      if (batches.length === 1) await held;
      return items;
    });
    const first = batcher.join([1]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = batcher.join([2]);
    release();
    expect(await Promise.all([first, second])).toEqual([[1], [2]]);
    expect(batches).toEqual([[1], [2]]);
  });

  it("fails every call of a batch whose run fails", async () => {
    const batcher = new CallBatcher<number, number>(async () => {
      throw new Error("store failed");
    });
    const results = await Promise.allSettled([batcher.join([1]), batcher.join([2])]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
  });
});
