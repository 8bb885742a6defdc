/**
 * Worker threads for convsim's parallel and asynchronous runs ({@link runJobs}, `runMapJobs`,
 * `simulateAsync`): starting a worker, a pool that hands requests to a few workers
 * ({@link runOnWorkers}), and errors as they cross a thread.
 *
 * The worker is the sibling module `worker` (.ts under tsx, .js in dist/). From the TypeScript
 * sources (bin/convsim.js registers tsx in the main thread only, and loader hooks do not reach a
 * worker that way), the worker first registers tsx's ESM loader itself and then imports
 * worker.ts; from dist/ it runs worker.js directly. Not a public module.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { ConfigError, InvariantError } from "../core/errors.js";

/** An error as it crosses a thread: enough to rebuild a ConfigError or an InvariantError. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly field?: string;
  readonly value?: unknown;
  readonly rule?: string;
  readonly component?: string;
  readonly stack?: string;
}

/** Flattens an error for postMessage. */
export function serializeError(e: unknown): SerializedError {
  if (e instanceof ConfigError) return { name: e.name, message: e.message, field: e.field, value: safeValue(e.value), rule: e.rule };
  if (e instanceof InvariantError) return { name: e.name, message: e.message, component: e.component };
  if (e instanceof Error) return { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) };
  return { name: "Error", message: String(e) };
}

function safeValue(v: unknown): unknown {
  try {
    return structuredClone(v);
  } catch {
    return String(v);
  }
}

/** Rebuilds an error flattened by {@link serializeError}: a ConfigError keeps its message, an InvariantError its component. */
export function deserializeError(s: SerializedError): Error {
  if (s.name === "ConfigError" && s.field !== undefined && s.rule !== undefined) {
    const e = new ConfigError(s.field, s.value, s.rule);
    e.message = s.message;
    return e;
  }
  if (s.name === "InvariantError" && s.component !== undefined) {
    const e = new InvariantError(s.component, "");
    e.message = s.message;
    return e;
  }
  const e = new Error(s.message);
  e.name = s.name;
  if (s.stack) e.stack = s.stack;
  return e;
}

function tsxApiUrl(): string {
  const req = createRequire(import.meta.url);
  const pkgPath = req.resolve("tsx/package.json");
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { exports?: Record<string, { import?: { default?: string } } | string> };
  const entry = pkg.exports?.["./esm/api"];
  const rel = typeof entry === "object" ? entry.import?.default : undefined;
  if (!rel) throw new Error("tsx does not export ./esm/api (import); cannot start TypeScript workers");
  return pathToFileURL(join(dirname(pkgPath), rel)).href;
}

/**
 * Starts one worker thread running the sibling `worker` module (.ts through tsx, or .js from
 * dist/); `heapCapMb` caps its V8 old generation (a worker that needs more dies with
 * ERR_WORKER_OUT_OF_MEMORY).
 */
export function startWorker(heapCapMb?: number): Worker {
  const self = import.meta.url;
  const limits = heapCapMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: heapCapMb } };
  if (self.endsWith(".ts")) {
    const api = tsxApiUrl();
    const entry = new URL("./worker.ts", self).href;
    const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    return new Worker(code, { eval: true, ...limits });
  }
  return new Worker(new URL("./worker.js", self), limits);
}

/**
 * The old-generation cap of a pool's workers, in MiB. V8 lets a heap grow far past its live data
 * before it collects (VGG-16 conv1_2: 185 MB of heap, mostly garbage, 81 MB live at the end), and
 * two such workers put `convsim run --net vgg16` over 1 GiB; capped, they collect sooner. A
 * request whose live data needs more is run again on a worker without the cap.
 */
export const WORKER_HEAP_CAP_MB = 256;

/** A worker's reply to a request (worker.ts): progress, or the request's end (done or error). */
export interface WorkerReply {
  readonly type: "progress" | "done" | "error";
  /** The request's index. */
  readonly index: number;
  readonly [field: string]: unknown;
}

/**
 * Worker threads kept for several rounds of requests ({@link WorkerPool.run}), so that a command
 * that first builds its mappings on the workers and then simulates pays for starting them once.
 * The workers start when the pool is made (they load the simulator while this thread goes on),
 * with their heap capped at `heapCapMb`; a worker that runs out of memory is replaced by one
 * without the cap, which runs its request again and stays in the pool. {@link WorkerPool.close}
 * terminates them.
 */
export class WorkerPool {
  /** The live workers, each with whether its heap is capped. */
  private readonly workers = new Map<Worker, boolean>();

  /**
   * @param threads the number of workers (at least one).
   * @param heapCapMb the workers' old-generation cap (default {@link WORKER_HEAP_CAP_MB}).
   */
  constructor(
    readonly threads: number,
    heapCapMb: number | undefined = WORKER_HEAP_CAP_MB,
  ) {
    for (let t = 0; t < Math.max(1, threads); t++) this.workers.set(startWorker(heapCapMb), heapCapMb !== undefined);
  }

  /**
   * Runs requests on the pool's workers, each worker taking the next request of `order` when it
   * finishes one; `onReply` sees every reply in this thread. Resolves when every request has
   * ended (`done` or `error`); rejects if a worker fails otherwise or exits first (then the pool
   * is spent: close it).
   * With `kinds`, a worker takes the first request of `order` of the kind it ran last, when one is
   * left, before any other ({@link nextOfKind}).
   * @param order request indices, in the order they are handed out.
   * @param request the message for a request index (`{ type, index, ... }`, see worker.ts).
   * @param kinds a request's kind (an affinity: requests of one kind run the same code).
   */
  async run(order: readonly number[], request: (index: number) => unknown, onReply: (reply: WorkerReply) => void, kinds?: (index: number) => string): Promise<void> {
    const queue = [...order];
    // (the kind each worker ran last)
    const held = new Map<Worker, string>();
    let left = order.length;
    if (left === 0) return;
    const detach: (() => void)[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        const attach = (w: Worker, first?: number): void => {
          let current: number | undefined;
          const next = (i = nextOfKind(queue, held.get(w), kinds, held, KIND_WINDOW * this.workers.size)) => {
            current = i;
            if (i === undefined) return;
            if (kinds) held.set(w, kinds(i));
            w.postMessage(request(i));
          };
          const onMessage = (msg: WorkerReply) => {
            onReply(msg);
            if (msg.type === "progress") return;
            if (--left === 0) return resolve();
            next();
          };
          const onError = (e: Error) => {
            if (this.workers.get(w) === true && (e as { code?: string }).code === "ERR_WORKER_OUT_OF_MEMORY") {
              // Too big for the cap: the request runs again, uncapped, on a new worker.
              this.workers.delete(w);
              held.delete(w);
              const u = startWorker(undefined);
              this.workers.set(u, false);
              attach(u, current);
              return;
            }
            reject(e);
          };
          const onExit = (code: number) => {
            if (left > 0 && this.workers.has(w)) reject(new Error(`a worker thread exited (code ${code}) before its requests were done`));
          };
          w.on("message", onMessage);
          w.on("error", onError);
          w.on("exit", onExit);
          detach.push(() => {
            w.off("message", onMessage);
            w.off("error", onError);
            w.off("exit", onExit);
          });
          next(first);
        };
        for (const w of [...this.workers.keys()].slice(0, Math.max(1, Math.min(this.workers.size, order.length)))) attach(w);
      });
    } finally {
      for (const d of detach) d();
    }
  }

  /** Runs `f` on a pool of `threads` workers made for it, and terminates them after it, whatever it ends with. */
  static async using<T>(threads: number, f: (pool: WorkerPool) => Promise<T>, heapCapMb: number | undefined = WORKER_HEAP_CAP_MB): Promise<T> {
    const pool = new WorkerPool(threads, heapCapMb);
    try {
      return await f(pool);
    } finally {
      await pool.close();
    }
  }

  /** Terminates the workers. */
  async close(): Promise<void> {
    const all = [...this.workers.keys()];
    this.workers.clear();
    await Promise.all(all.map((w) => w.terminate()));
  }
}

/** Requests per worker that {@link nextOfKind} looks at for one of a worker's kind. */
const KIND_WINDOW = 2;

/**
 * Takes from `queue` (request indices, in the order they are handed out) the next request for a
 * worker that ran a request of `kind` last, when `kinds` is given: the first of that kind if one
 * is left, else the first of a kind no other worker holds (`held`: the kind each ran last), else
 * the first; without `kinds`, the first. Only the first `window` requests are looked at, so the
 * order (the costliest first, jobs.ts) bends but little and no large request is left for the end.
 * Keeping each worker on its own kind of request (AlexNet: the FC layers on one worker, the
 * convolutions on the other) spares it compiling and recompiling the code of the others
 * (docs/design-notes.md, "Workers keep to a kind of job").
 */
export function nextOfKind<W>(queue: number[], kind: string | undefined, kinds: ((index: number) => string) | undefined, held: ReadonlyMap<W, string>, window = Infinity): number | undefined {
  if (!kinds) return queue.shift();
  const n = Math.min(queue.length, window);
  let at = -1;
  if (kind !== undefined) for (let k = 0; k < n && at < 0; k++) if (kinds(queue[k]!) === kind) at = k;
  if (at < 0) {
    const others = new Set<string>();
    for (const k of held.values()) if (k !== kind) others.add(k);
    for (let k = 0; k < n && at < 0; k++) if (!others.has(kinds(queue[k]!))) at = k;
  }
  return at >= 0 ? queue.splice(at, 1)[0] : queue.shift();
}

/**
 * Runs requests on `threads` worker threads (at least one, never more than requests) of a pool
 * made for them ({@link WorkerPool}) and terminated at the end, either way.
 * @param order request indices, in the order they are handed out.
 * @param request the message for a request index (`{ type, index, ... }`, see worker.ts).
 * @param heapCapMb the workers' old-generation cap (default {@link WORKER_HEAP_CAP_MB}).
 */
export async function runOnWorkers(
  order: readonly number[],
  threads: number,
  request: (index: number) => unknown,
  onReply: (reply: WorkerReply) => void,
  heapCapMb: number | undefined = WORKER_HEAP_CAP_MB,
): Promise<void> {
  if (order.length === 0) return;
  await WorkerPool.using(Math.max(1, Math.min(threads, order.length)), (pool) => pool.run(order, request, onReply), heapCapMb);
}
