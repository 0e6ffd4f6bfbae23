// The entrypoint `npm start` puts on the server's socket (tools/serve.ts).
// Miniflare routes a Worker with static assets through an assets proxy and
// router (two more isolates per API request); a named entrypoint on the socket
// is not routed, so it routes the way Cloudflare does, in the Worker's own
// isolate: the API's paths (`run_worker_first` in wrangler.toml) and every
// method but GET and HEAD go to the Worker, any other read to the assets, and
// a path no file matches to the Worker.
import { WorkerEntrypoint } from "cloudflare:workers";

interface FetchHandler<E> {
  fetch(request: Request, env: E, ctx: ExecutionContext): Response | Promise<Response>;
}

function patternToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}

/** The front door of `worker`, for a Worker with an `ASSETS` binding or none. */
export function frontDoor<E extends { ASSETS?: Fetcher }>(
  worker: FetchHandler<E>,
  workerFirst: readonly string[],
) {
  const firstToWorker = workerFirst.map(patternToRegExp);
  return class FrontDoor extends WorkerEntrypoint<E> {
    override async fetch(request: Request): Promise<Response> {
      const assets = this.env.ASSETS;
      const isRead = request.method === "GET" || request.method === "HEAD";
      // The path without parsing a URL object: a request's URL is absolute, its path starts after the host.
      const url = request.url;
      const start = url.indexOf("/", url.indexOf("//") + 2);
      const query = url.indexOf("?", start);
      const pathname = url.slice(start, query === -1 ? undefined : query);
      if (assets === undefined || !isRead || firstToWorker.some((pattern) => pattern.test(pathname))) {
        return worker.fetch(request, this.env, this.ctx);
      }
      const asset = await assets.fetch(request);
      return asset.status === 404 ? worker.fetch(request, this.env, this.ctx) : asset;
    }
  };
}
