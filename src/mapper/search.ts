/**
 * `map()`: the mapper's search (docs/mapper.md). A seeded evolutionary local search over
 * genomes (genome.ts), scored in closed form (cost.ts):
 *
 * 1. Seeds: the named dataflows' mappings (chen2020, ws, os, is, rs, each where it fits) and the
 *    caller's `seeds` (e.g. the best mapping at a smaller capacity) are evaluated first, so the
 *    result is never worse on the objective's estimate than any of them.
 * 2. Then, until the budget is spent, four islands take turns: with probability 0.15 (or while
 *    the island keeps nothing) a random genome, with 0.1 a greedy climb from a kept candidate
 *    (its factors grown one useful value at a time while each step scores better), else one to
 *    three mutations (moves.ts) of a kept candidate drawn with a bias to the best (rank r of E
 *    with probability about (r/E)^(-1/2)). Island 0 starts from the seeds; every 2,500
 *    evaluations the island whose best is worst starts again from nothing. Every 250
 *    evaluations, the island whose turn it is polishes (polish.ts) the best of its three best
 *    candidates not polished yet (else the best overall not polished yet): its GBuf level
 *    re-sized for the fewest DRAM words at its inner levels, considered like any candidate.
 * 3. Each candidate: a mapping seen before costs an evaluation and nothing else; then the cheap
 *    bound of its score (`CostModel.lowerScore`: its exact DRAM words, MACs, compute and DRAM
 *    terms) is compared with the worst of the E kept candidates and, if it cannot beat it, the
 *    candidate is pruned before its legality is checked; then legality (`checkMapping`), then
 *    the mappings whose DRAM words the closed form counts exactly (`exactTraffic`; the seeds are
 *    exempt: the named dataflows' counts are tested against the simulator); then the full
 *    estimate. The E = max(top, 16) best distinct mappings are kept; equal scores are ranked by the
 *    estimated energy (for the dram objective) or the DRAM words (for the others), then in the
 *    order found.
 * 4. The search stops when the budget is spent, or when the best score is within `stopWithin`
 *    (default 1 %) of the objective's provable bound ({@link objectiveBound}).
 *
 * Determinism: a budget in evaluations (the default, 20,000) gives the same result for the same
 * seed on every machine: the candidates come from a seeded stream (moves.ts) and depend only on
 * the scores. A budget in seconds stops after however many evaluations the machine managed:
 * the result depends on the machine's speed and load (docs/mapper.md).
 */
import type { ArchSpec } from "../arch/spec.js";
import { boundaryCapacityWords, lowerBounds, peMacsPerCycle } from "../bounds/index.js";
import { ConfigError } from "../core/errors.js";
import { chen2020 } from "../dataflow/dataflows/chen2020.js";
import { is } from "../dataflow/dataflows/is.js";
import { os } from "../dataflow/dataflows/os.js";
import { rs } from "../dataflow/dataflows/rs.js";
import { ws } from "../dataflow/dataflows/ws.js";
import { checkMapping } from "../dataflow/legality.js";
import { dimSizes, type Mapping } from "../dataflow/mapping.js";
import type { EnergyTable } from "../report/energy.js";
import type { OperandType } from "../workload/dtype.js";
import { convShape, type ConvLayer } from "../workload/layer.js";
import { CostModel, exactTraffic, type Estimate, type Objective } from "./cost.js";
import { genomeOf, mappingKey, normalize, toMapping, type Genome } from "./genome.js";
import { mutate, randomGenome, Rng, shuffled, tilesLeft, usefulFactors } from "./moves.js";
import { parseBudget, type Budget } from "./budget.js";
import { polish } from "./polish.js";

/** Options of {@link map}. */
export interface MapOptions {
  /** What to minimise (default `dram`). */
  readonly objective?: Objective;
  /** Evaluations (a number, `"20000"`) or seconds (`"10s"`, `{ seconds: 10 }`). Default 20,000 evaluations. */
  readonly budget?: Budget | number | string;
  /** Seed of the search's random stream (default 1). */
  readonly seed?: string | number;
  /** How many of the best mappings to return (default 5). */
  readonly top?: number;
  /** Operand types the mappings must fit and the energy is priced at (default int8, as simulate generates). */
  readonly types?: { readonly input?: OperandType; readonly weight?: OperandType };
  /** Energy table for the `energy` and `edp` objectives (default the Eyeriss table). */
  readonly energyTable?: EnergyTable;
  /** Mappings to start from besides the named dataflows (illegal ones are skipped). */
  readonly seeds?: readonly Mapping[];
  /** Start from the named dataflows' mappings (default true). */
  readonly named?: boolean;
  /** Stop when the best is within this fraction of the objective's bound (default 0.01; 0: never). */
  readonly stopWithin?: number;
  /** Called every 256 evaluations and at the end. */
  readonly onProgress?: (p: MapProgress) => void;
}

/** The search's progress. */
export interface MapProgress {
  readonly evaluations: number;
  readonly best: number | undefined;
  readonly budget: Budget;
}

/** A mapping with its closed-form estimate. */
export interface MapCandidate {
  readonly mapping: Mapping;
  readonly estimate: Estimate;
}

/** Why the search stopped. */
export type StopReason = "budget" | "bound";

/** The result of {@link map}. */
export interface MapResult {
  readonly layer: ConvLayer;
  readonly arch: ArchSpec;
  readonly objective: Objective;
  /** The operand types the mappings fit and the energy is priced at. */
  readonly types: { readonly input: OperandType; readonly weight: OperandType };
  /** The energy table of the estimates. */
  readonly energyTable: EnergyTable;
  readonly seed: string;
  readonly budget: Budget;
  /** The best mapping (the first of `top`). */
  readonly best: MapCandidate;
  /** The best `top` distinct mappings, best first. */
  readonly top: readonly MapCandidate[];
  /** The objective's bound (see {@link objectiveBound}) and the DRAM words' max(compulsory, provable). */
  readonly bound: number;
  readonly dramBound: number;
  /** Candidates evaluated; of them, pruned by the score bound, illegal, legal and scored. */
  readonly evaluations: number;
  readonly pruned: number;
  readonly illegal: number;
  readonly scored: number;
  readonly stoppedBy: StopReason;
}

/** The named dataflows the search starts from. */
const NAMED = [chen2020, ws, os, is, rs] as const;

interface Kept extends MapCandidate {
  readonly genome: Genome;
  readonly key: string;
}


/**
 * A bound on the objective: DRAM words' max(compulsory, provable) at the on-chip capacity; for
 * energy, those words at the cheapest DRAM word plus every MAC with its two operand reads; for
 * cycles, the larger of the MACs over every PE and the bound's words over the DRAM bus; for edp,
 * their product.
 */
export function objectiveBound(cost: CostModel): { readonly bound: number; readonly dramWords: number } {
  const { layer, arch, types } = cost;
  const b = lowerBounds(layer, { boundary: "dram", capacity: boundaryCapacityWords(arch, "dram", types), types });
  const dramWords = b.headline;
  const macs = convShape(layer).macs;
  const energy = cost.objective === "energy" || cost.objective === "edp" ? cost.energyFloor(dramWords) : 0;
  const minBytes = Math.min(...[types.input, types.weight].map((t) => (t === "int16" ? 2 : 1)));
  const cycles = Math.max(Math.ceil(macs / (arch.array.rows * arch.array.cols * peMacsPerCycle(arch))), arch.dram.model === "ideal" ? 0 : Math.ceil((dramWords * minBytes) / arch.dram.bytesPerCycle));
  const bound = cost.objective === "dram" ? dramWords : cost.objective === "energy" ? energy : cost.objective === "cycles" ? cycles : energy * cycles;
  return { bound, dramWords };
}

/**
 * Searches the mappings of `layer` on `arch` for the lowest objective (file header).
 * @throws ConfigError for a bad option, or when no legal mapping was found within the budget.
 */
export function map(layer: ConvLayer, arch: ArchSpec, options: MapOptions = {}): MapResult {
  const objective = options.objective ?? "dram";
  if (!["dram", "energy", "cycles", "edp"].includes(objective)) throw new ConfigError("objective", objective, "be one of dram, energy, cycles, edp");
  const budget = parseBudget(options.budget ?? { evaluations: 20000 }, "budget");
  const top = options.top ?? 5;
  if (!Number.isInteger(top) || top < 1) throw new ConfigError("top", top, "be a positive integer");
  const stopWithin = options.stopWithin ?? 0.01;
  if (!(stopWithin >= 0)) throw new ConfigError("stopWithin", stopWithin, "be a number >= 0");
  const seed = String(options.seed ?? 1);
  const cost = new CostModel(layer, arch, { objective, ...(options.types ? { types: options.types } : {}), ...(options.energyTable ? { energyTable: options.energyTable } : {}) });
  const { bound, dramWords } = objectiveBound(cost);
  const search = new Search(layer, arch, cost, Math.max(top, 16), options.onProgress, budget);
  const stopAt = stopWithin > 0 ? bound * (1 + stopWithin) : -Infinity;
  (options.seeds ?? []).forEach((m, i) => {
    if (m.fuse) throw new ConfigError(`seeds[${i}].fuse`, m.fuse.map((g) => g.dims.join("*")).join(", "), "be absent: the mapper's search space has no fused groups (build the seed with DataflowOptions.fold false)");
  });
  const starts = [...(options.named === false ? [] : namedMappings(layer, arch, cost.types)), ...(options.seeds ?? [])];
  for (const m of starts) search.consider(normalize(genomeOf(m), search.sizes, arch), undefined, true);
  const stoppedBy = search.run(new Rng(seed), stopAt);
  const kept = search.kept.slice(0, top).map((k) => Object.freeze({ mapping: k.mapping, estimate: k.estimate }));
  if (kept.length === 0) throw new ConfigError("map", layer.name ?? "layer", `find a legal mapping on ${arch.name} within the budget (${search.evaluations} evaluations, ${search.illegal} illegal)`);
  return Object.freeze({
    layer,
    arch,
    objective,
    types: cost.types,
    energyTable: cost.table,
    seed,
    budget,
    best: kept[0]!,
    top: Object.freeze(kept),
    bound,
    dramBound: dramWords,
    evaluations: search.evaluations,
    pruned: search.pruned,
    illegal: search.illegal,
    scored: search.scored,
    stoppedBy,
  });
}

/** The named dataflows' mappings of the layer (those that fit). */
function namedMappings(layer: ConvLayer, arch: ArchSpec, types: { input: OperandType; weight: OperandType }): Mapping[] {
  const out: Mapping[] = [];
  for (const build of NAMED) {
    try {
      // (unfolded: a genome has no fused groups)
      out.push(build(layer, arch, { types, fold: false }));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
    }
  }
  return out;
}

/** Islands of the search (file header, step 2). */
const ISLANDS = 4;
/** Evaluations between two restarts of the worst island. */
const RESTART_EVERY = 2500;
/** Evaluations between two polishes (polish.ts); a polish takes the first of an island's POLISH_DEPTH best not polished yet. */
const POLISH_EVERY = 250;
const POLISH_DEPTH = 3;

/** A list of candidates kept best first, at most `capacity` long. */
class Ranking {
  readonly list: Kept[] = [];
  constructor(private readonly capacity: number) {}

  /** The worst kept estimate when the list is full (what a newcomer must beat). */
  get bar(): Estimate | undefined {
    return this.list.length >= this.capacity ? this.list[this.list.length - 1]!.estimate : undefined;
  }

  /** Inserts `k` in rank order (after its equals) if it beats the bar. */
  offer(k: Kept): void {
    const bar = this.bar;
    if (bar && !better(k.estimate, bar)) return;
    let i = this.list.length;
    while (i > 0 && better(k.estimate, this.list[i - 1]!.estimate)) i--;
    this.list.splice(i, 0, k);
    if (this.list.length > this.capacity) this.list.pop();
  }
}

/** The state of one search: the islands, the overall ranking, the counts, the budget. */
class Search {
  readonly sizes;
  /** The best candidates over every island. */
  readonly ranking: Ranking;
  private readonly islands: Ranking[];
  /** Every mapping considered, by key: its kept form when it was legal and scored. */
  private readonly seen = new Map<string, Kept | undefined>();
  /** Keys of the candidates polished already. */
  private readonly polished = new Set<string>();
  evaluations = 0;
  pruned = 0;
  illegal = 0;
  scored = 0;
  private readonly t0 = performance.now();

  constructor(
    private readonly layer: ConvLayer,
    private readonly arch: ArchSpec,
    private readonly cost: CostModel,
    capacity: number,
    private readonly onProgress: MapOptions["onProgress"],
    private readonly budget: Budget,
  ) {
    this.sizes = dimSizes(layer);
    this.ranking = new Ranking(capacity);
    this.islands = Array.from({ length: ISLANDS }, () => new Ranking(capacity));
  }

  /** The best candidates found, best first. */
  get kept(): readonly Kept[] {
    return this.ranking.list;
  }

  /** Whether the budget is spent. */
  private spent(): boolean {
    if ("evaluations" in this.budget) return this.evaluations >= this.budget.evaluations;
    return performance.now() - this.t0 >= this.budget.seconds * 1000;
  }

  /** Whether the best reaches `stopAt`. */
  private reached(stopAt: number): boolean {
    return this.kept.length > 0 && this.kept[0]!.estimate.score <= stopAt;
  }

  /**
   * Step 2 of the file header, until the budget is spent or the best reaches `stopAt`: the
   * islands take turns; island 0 holds the seeds, the others start from random genomes; every
   * {@link RESTART_EVERY} evaluations the island whose best is worst starts again from nothing.
   */
  run(rng: Rng, stopAt: number): StopReason {
    let turn = 0;
    while (!this.spent()) {
      if (this.reached(stopAt)) return "bound";
      const island = this.islands[turn++ % ISLANDS]!;
      const before = this.evaluations;
      const r = rng.next();
      const parent = island.list[Math.floor(island.list.length * rng.next() ** 2)];
      if (!parent || r < 0.15) this.consider(randomGenome(rng, this.sizes, this.arch), island);
      else if (r < 0.25) this.climb(parent, island, rng);
      else this.consider(mutate(parent.genome, rng, this.sizes, this.arch), island);
      if (Math.floor(this.evaluations / 256) > Math.floor(before / 256)) this.progress();
      if (Math.floor(this.evaluations / RESTART_EVERY) > Math.floor(before / RESTART_EVERY)) this.restartWorst();
      if (Math.floor(this.evaluations / POLISH_EVERY) > Math.floor(before / POLISH_EVERY)) this.polishBest(island);
    }
    this.progress();
    return this.reached(stopAt) ? "bound" : "budget";
  }

  /**
   * Greedy growth from a kept candidate: for each dimension in a random order, at the gbuf level
   * (or, one time in three, the rf level), the next larger useful factors one after the other
   * while each candidate is legal and beats the one before (every try is an evaluation).
   */
  private climb(from: Kept, island: Ranking, rng: Rng): void {
    let cur = from;
    for (const d of shuffled(rng)) {
      const level = rng.next() < 1 / 3 ? "rf" : "gbuf";
      for (const v of usefulFactors(tilesLeft(cur.genome, this.sizes, d, level))) {
        if (v <= cur.genome[level][d]) continue;
        if (this.spent()) return;
        const next = this.consider(normalize({ ...cur.genome, [level]: { ...cur.genome[level], [d]: v } }, this.sizes, this.arch), island);
        if (!next || !better(next.estimate, cur.estimate)) break;
        cur = next;
      }
    }
  }

  /**
   * Polishes (polish.ts) the first of the island's {@link POLISH_DEPTH} best candidates not
   * polished yet (else the best overall not polished yet): its GBuf level re-sized for the
   * fewest DRAM words at its inner levels, with the GBuf keeping every tensor and, if the
   * candidate bypasses one, with the candidate's keep flags; each result is considered for the
   * island (an evaluation each, within the budget).
   */
  private polishBest(island: Ranking): void {
    const unpolished = (c: Kept) => !this.polished.has(c.key);
    const k = island.list.slice(0, POLISH_DEPTH).find(unpolished) ?? this.kept.find(unpolished);
    if (!k) return;
    this.polished.add(k.key);
    for (const m of polish(k.genome, this.layer, this.arch, this.cost.types)) {
      if (this.spent()) return;
      this.consider(normalize(genomeOf(m), this.sizes, this.arch), island);
    }
  }

  /** Empties the island whose best is worst (an empty island counts as worst already). */
  private restartWorst(): void {
    let worst = this.islands[0]!;
    for (const isl of this.islands) {
      const a = isl.list[0]?.estimate;
      const b = worst.list[0]?.estimate;
      if (a && (!b || better(b, a))) worst = isl;
    }
    worst.list.length = 0;
  }

  private progress(): void {
    this.onProgress?.({ evaluations: this.evaluations, best: this.kept[0]?.estimate.score, budget: this.budget });
  }

  /**
   * Step 3 of the file header: one candidate, for one island (default the seeds' island). A
   * `seed` is scored even where `exactTraffic` does not vouch for the closed form (the named
   * dataflows' DRAM words are tested against the simulator; a caller's seed is the caller's).
   */
  consider(g: Genome, island: Ranking = this.islands[0]!, seed = false): Kept | undefined {
    this.evaluations++;
    const mapping = toMapping(g, this.layer);
    const key = mappingKey(mapping);
    if (this.seen.has(key)) return this.seen.get(key);
    this.seen.set(key, undefined);
    const bars = [island.bar, this.ranking.bar];
    const { bound, dram } = this.cost.lowerScore(mapping);
    // Equal bounds go on: the tie-break may still prefer the candidate.
    if (bars.every((b) => b && bound > b.score)) {
      this.pruned++;
      return undefined;
    }
    if (!checkMapping(mapping, this.layer, this.arch, { types: this.cost.types }).ok || !(seed || exactTraffic(mapping, this.layer))) {
      this.illegal++;
      return undefined;
    }
    this.scored++;
    const kept: Kept = { mapping, estimate: this.cost.estimate(mapping, dram), genome: g, key };
    this.seen.set(key, kept);
    island.offer(kept);
    this.ranking.offer(kept);
    return kept;
  }
}

/** Whether `a` beats `b`: a lower score, or an equal score and a lower tie-break (`Estimate.tieBreak`). */
function better(a: Estimate, b: Estimate): boolean {
  return a.score < b.score || (a.score === b.score && a.tieBreak < b.tieBreak);
}
