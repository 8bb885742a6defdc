/**
 * `npm run campaign -- [--kind named|mappings|fused|streamed|mapper] [--seed S] [--minutes M | --cases N]
 * [--checked-every N] [--reference-every N] [--scale X]`: runs a random campaign (campaign.ts) and prints each
 * failed case as one JSON line (the check, what differed, and the simulate() options that
 * reproduce it), then a summary. Exits 1 when a case failed, 2 on a bad option.
 */
import { parseArgs } from "node:util";
import { ConfigError } from "../../src/core/errors.js";
import { CAMPAIGN_KINDS, runCampaign, type CampaignKind } from "./campaign.js";

/** A positive option (an integer unless `fraction`), or undefined when not given. */
function positive(name: string, v: string | undefined, fraction = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(fraction ? /^\d+(\.\d+)?$/ : /^\d+$/).test(v) || !(n > 0)) throw new ConfigError(name, v, fraction ? "be a positive number" : "be a positive integer");
  return n;
}

function main(argv: readonly string[]): number {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], options: { kind: { type: "string" }, seed: { type: "string" }, minutes: { type: "string" }, cases: { type: "string" }, "checked-every": { type: "string" }, "reference-every": { type: "string" }, scale: { type: "string" } }, strict: true }));
  } catch (e) {
    process.stderr.write(`campaign: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  try {
    const kind = (values.kind ?? "named") as CampaignKind;
    if (!CAMPAIGN_KINDS.includes(kind)) throw new ConfigError("--kind", values.kind, `be one of ${CAMPAIGN_KINDS.join(", ")}`);
    const minutes = positive("--minutes", values.minutes, true);
    const cases = positive("--cases", values.cases);
    const checkedEvery = positive("--checked-every", values["checked-every"]);
    const referenceEvery = positive("--reference-every", values["reference-every"]);
    const scale = positive("--scale", values.scale);
    const seed = values.seed ?? "1";
    const t0 = performance.now();
    const r = runCampaign({
      kind,
      seed,
      ...(cases !== undefined ? { cases } : {}),
      ...(minutes !== undefined || cases === undefined ? { ms: Math.round((minutes ?? 1) * 60_000) } : {}),
      ...(checkedEvery !== undefined ? { checkedEvery } : {}),
      ...(referenceEvery !== undefined ? { referenceEvery } : {}),
      ...(scale !== undefined ? { scale } : {}),
    });
    for (const f of r.failures) process.stdout.write(JSON.stringify(f) + "\n");
    process.stdout.write(`campaign ${kind} seed ${seed}: ${r.cases} cases, ${r.failures.length} failed, ${r.skipped} skipped (no mapping), ${r.timelinesReplayed} timelines replayed, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
    return r.failures.length > 0 ? 1 : 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`campaign: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

process.exitCode = main(process.argv.slice(2));
