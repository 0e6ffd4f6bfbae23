// Everything the fault run starts registers how to undo it here; the undo
// steps run newest first, once, each bounded by a timeout, whatever way the
// run ends (success, failure, SIGINT/SIGTERM, the overall deadline).
import { setTimeout as sleep } from "node:timers/promises";
import { errorMessage } from "../../tools/net.js";

const STEP_TIMEOUT_MS = 20_000;

interface Step {
  name: string;
  undo: () => Promise<unknown>;
  /** Synchronous last resort when the process exits without running `undo`. */
  onExit?: () => void;
  done: boolean;
}

export class Cleanups {
  private readonly steps: Step[] = [];
  private running: Promise<void> | undefined;

  constructor() {
    process.on("exit", () => {
      for (const step of this.steps) if (!step.done) step.onExit?.();
    });
  }

  /** Returns a function that runs this one step now (and not again later). */
  add(name: string, undo: () => Promise<unknown>, onExit?: () => void): () => Promise<void> {
    const step: Step = { name, undo, onExit, done: false };
    this.steps.push(step);
    return () => this.runStep(step);
  }

  runAll(): Promise<void> {
    this.running ??= (async () => {
      for (const step of [...this.steps].reverse()) await this.runStep(step);
    })();
    return this.running;
  }

  private async runStep(step: Step): Promise<void> {
    if (step.done) return;
    step.done = true;
    const timeout = sleep(STEP_TIMEOUT_MS, undefined, { ref: false }).then(() => {
      throw new Error(`timed out after ${STEP_TIMEOUT_MS / 1000} s`);
    });
    try {
      await Promise.race([step.undo(), timeout]);
    } catch (error) {
      console.error(`faults: cleanup "${step.name}": ${errorMessage(error)}`);
      step.onExit?.();
    }
  }
}
