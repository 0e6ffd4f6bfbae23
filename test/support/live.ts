import { exports } from "cloudflare:workers";
import type { z } from "@hono/zod-openapi";
import { expectTypeOf } from "vitest";
import { type LeaderboardMessageSchema, LiveMessageSchema } from "../../src/api/contract";
import type { LiveMessage as SentMessage } from "../../src/objects/live-board";
import { parseJson } from "./api";

export type LiveBoardMessage = z.infer<typeof LeaderboardMessageSchema>;
export type LiveMessage = z.infer<typeof LiveMessageSchema>;

// What the object sends (src/objects/live-board.ts) and what the contract
// parses are one shape, each assignable to the other: tsc fails here when they drift.
expectTypeOf<SentMessage>().toExtend<LiveMessage>();
expectTypeOf<LiveMessage>().toExtend<SentMessage>();

export interface Watcher {
  messages: { at: number; message: LiveMessage }[];
  closed: Promise<{ code: number }>;
  socket: WebSocket;
  /** Resolves when a message matching `predicate` has arrived. */
  until(predicate: (message: LiveMessage) => boolean, timeoutMs?: number): Promise<LiveMessage>;
}

/** Watches a session's /live; with `token`, authenticated through the `bearer.<JWT>` subprotocol. */
export async function watch(sessionId: string, query = "", token?: string): Promise<Watcher> {
  const headers: Record<string, string> = { Upgrade: "websocket" };
  if (token !== undefined) headers["Sec-WebSocket-Protocol"] = `bearer, bearer.${token}`;
  const res = await exports.default.fetch(`http://bidding.test/v1/sessions/${sessionId}/live${query}`, {
    headers,
  });
  if (token !== undefined && res.headers.get("Sec-WebSocket-Protocol") !== "bearer") {
    throw new Error(`the upgrade did not answer the bearer subprotocol: ${res.status}`);
  }
  const socket = res.webSocket;
  if (res.status !== 101 || !socket) throw new Error(`no upgrade: ${res.status} ${await res.text()}`);
  socket.accept();
  const messages: Watcher["messages"] = [];
  /** Messages the contract does not describe: the next `until` fails with the first. */
  const malformed: unknown[] = [];
  const listeners = new Set<() => void>();
  socket.addEventListener("message", (event) => {
    try {
      const message = parseJson(
        `/v1/sessions/${sessionId}/live message`,
        LiveMessageSchema,
        String(event.data),
      );
      messages.push({ at: Date.now(), message });
    } catch (error) {
      malformed.push(error);
    }
    for (const listener of listeners) listener();
  });
  const closed = new Promise<{ code: number }>((resolve) =>
    socket.addEventListener("close", (event) => resolve({ code: event.code })),
  );
  const until: Watcher["until"] = (predicate, timeoutMs = 5_000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (malformed.length > 0) {
          listeners.delete(check);
          clearTimeout(timer);
          reject(malformed[0]);
          return;
        }
        const found = messages.find((m) => predicate(m.message));
        if (!found) return;
        listeners.delete(check);
        clearTimeout(timer);
        resolve(found.message);
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(
          new Error(
            `no matching message in ${timeoutMs} ms; got ${JSON.stringify(messages.map((m) => m.message))}`,
          ),
        );
      }, timeoutMs);
      listeners.add(check);
      check();
    });
  return { messages, closed, socket, until };
}
