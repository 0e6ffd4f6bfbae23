// The benchmark's side of its webhook receiver (webhook-receiver-child.ts):
// starts it as a child process (its pid is the root of its CPU figures), tells
// it which paths to accept and with which secret, and asks what it received.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { exited, waitForExit } from "../tools/process-group.js";
import {
  type FromReceiver,
  FromReceiverSchema,
  type ReceiverFigures,
  type ToReceiver,
} from "./webhook-receiver-protocol.js";

const CHILD = fileURLToPath(new URL("./webhook-receiver-child.ts", import.meta.url));
const START_TIMEOUT_MS = 15_000;
const ANSWER_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 5_000;

type Request = ToReceiver extends infer M ? (M extends ToReceiver ? Omit<M, "id"> : never) : never;

export type { ReceiverFigures };

export class WebhookReceiver {
  private nextId = 1;
  private readonly waiting = new Map<number, (message: FromReceiver) => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.on("message", (raw: unknown) => {
      const message = FromReceiverSchema.safeParse(raw).data;
      if (message && "id" in message) this.waiting.get(message.id)?.(message);
    });
  }

  /** Starts the receiver on a free port of 127.0.0.1; resolves once it listens. */
  static async start(): Promise<WebhookReceiver> {
    // Under tsx the child needs the same loader as this process.
    const child = spawn(process.execPath, [...process.execArgv, CHILD], {
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`the webhook receiver did not listen within ${START_TIMEOUT_MS / 1000} s`));
      }, START_TIMEOUT_MS);
      child.on("message", (raw: unknown) => {
        const message = FromReceiverSchema.safeParse(raw).data;
        if (message?.type !== "listening") return;
        clearTimeout(timer);
        resolve(message.port);
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the webhook receiver exited (${signal ?? code}) before it listened`));
      });
    });
    return new WebhookReceiver(child, port);
  }

  /** The receiver process, for its CPU figures. */
  get pid(): number {
    return this.child.pid ?? 0;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async watch(path: string): Promise<void> {
    await this.ask({ type: "watch", path });
  }

  async setSecret(path: string, secret: string): Promise<void> {
    await this.ask({ type: "secret", path, secret });
  }

  async figures(path: string, sessionId: string): Promise<ReceiverFigures> {
    const answer = await this.ask({ type: "figures", path, sessionId });
    if (answer.type !== "figures") throw new Error("the webhook receiver answered no figures");
    return answer.figures;
  }

  async stop(): Promise<void> {
    if (exited(this.child)) return;
    this.child.kill("SIGTERM");
    if (!(await waitForExit(this.child, STOP_TIMEOUT_MS))) this.child.kill("SIGKILL");
  }

  /** For the process' exit handler. */
  stopNow(): void {
    if (!exited(this.child)) this.child.kill("SIGKILL");
  }

  private ask(request: Request): Promise<FromReceiver> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(
          new Error(`the webhook receiver did not answer ${request.type} within ${ANSWER_TIMEOUT_MS} ms`),
        );
      }, ANSWER_TIMEOUT_MS);
      this.waiting.set(id, (message) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        if (message.type === "failed") reject(new Error(`webhook receiver: ${message.error}`));
        else resolve(message);
      });
      this.child.send({ ...request, id } satisfies ToReceiver);
    });
  }
}
