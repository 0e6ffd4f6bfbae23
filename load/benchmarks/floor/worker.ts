// The platform floor: the cheapest Worker, object call and object write that
// the runtime can serve, so the product's figures can be read as ratios to them.
// One object for every request, as one session's bids all reach one object.
import { DurableObject } from "cloudflare:workers";

interface FloorStub {
  nothing(): Promise<null>;
  writeRow(): Promise<null>;
}

interface FloorEnv {
  FLOOR: { idFromName(name: string): unknown; get(id: unknown): FloorStub };
}

export class FloorObject extends DurableObject<FloorEnv> {
  constructor(...args: ConstructorParameters<typeof DurableObject<FloorEnv>>) {
    super(...args);
    this.ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, at INTEGER NOT NULL)",
    );
  }

  nothing(): null {
    return null;
  }

  writeRow(): null {
    this.ctx.storage.sql.exec("INSERT INTO rows (at) VALUES (?)", Date.now());
    return null;
  }
}

export default {
  async fetch(request: Request, env: FloorEnv): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === "/bare") return new Response("ok");
    if (pathname === "/object" || pathname === "/write") {
      const stub = env.FLOOR.get(env.FLOOR.idFromName("floor"));
      await (pathname === "/object" ? stub.nothing() : stub.writeRow());
      return new Response("ok");
    }
    return new Response("not found", { status: 404 });
  },
};
