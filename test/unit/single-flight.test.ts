import { describe, expect, it } from "vitest";
import { SingleFlight } from "../../src/objects/single-flight";

const keepAlive = () => {};

describe("SingleFlight", () => {
  it("lets concurrent reads of one key share one call, and reads of other keys their own", async () => {
    const flights = new SingleFlight<string>();
    const calls: string[] = [];
    const read = (key: string) => () => {
      calls.push(key);
      return new Promise<string>((resolve) => setTimeout(() => resolve(`${key}@${calls.length}`), 5));
    };
    const answers = await Promise.all([
      flights.read("a", read("a"), keepAlive),
      flights.read("a", read("a"), keepAlive),
      flights.read("b", read("b"), keepAlive),
      flights.read("a", read("a"), keepAlive),
    ]);
    expect(calls).toEqual(["a", "b"]);
    expect(answers).toEqual(["a@2", "a@2", "b@2", "a@2"]);
    // Once answered, the next read is a new call.
    expect(await flights.read("a", read("a"), keepAlive)).toBe("a@3");
  });

  it("a read that joined a failed call reads on its own", async () => {
    const flights = new SingleFlight<string>();
    const failing = flights.read("a", () => Promise.reject(new Error("object restarting")), keepAlive);
    const joined = flights.read("a", () => Promise.resolve("fresh"), keepAlive);
    await expect(failing).rejects.toThrow("object restarting");
    expect(await joined).toBe("fresh");
  });
});
