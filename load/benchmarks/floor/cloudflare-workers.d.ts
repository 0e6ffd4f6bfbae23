// The part of `cloudflare:workers` the floor Worker uses. load/ is typechecked
// with Node's types (tools/tsconfig.json), not the Workers runtime's.
declare module "cloudflare:workers" {
  interface SqlStorage {
    exec(query: string, ...bindings: (string | number | null)[]): unknown;
  }
  interface DurableObjectState {
    storage: { sql: SqlStorage };
  }
  export abstract class DurableObject<Env = unknown> {
    protected ctx: DurableObjectState;
    protected env: Env;
    constructor(ctx: DurableObjectState, env: Env);
  }
}
