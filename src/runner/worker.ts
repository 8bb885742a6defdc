/**
 * The worker thread of {@link runJobs} (jobs.ts), `runMapJobs` (map-jobs.ts) and `simulateAsync`
 * (async.ts): it serves the parent's requests (serve.ts has the protocol). Not a public module.
 */
import { serveWorker } from "./serve.js";

serveWorker();
