/**
 * The mapper (docs/mapper.md): a search over Mappings for one layer on one architecture, scored
 * in closed form (exact DRAM words, a cycle estimate, the energy table), pruned by legality and
 * bounds, deterministic for a seed and an evaluation budget; its winners verified by simulation.
 */
export { map, objectiveBound, type MapOptions, type MapResult, type MapCandidate, type MapProgress, type StopReason } from "./search.js";
export { CostModel, exactTraffic, OBJECTIVES, type Objective, type Estimate, type CostOptions } from "./cost.js";
export { parseBudget, formatBudget, type Budget } from "./budget.js";
export { verifyMappings, rankBySimulation, simulatedScore, type VerifiedCandidate, type VerifyOptions } from "./verify.js";
export { bestMapping, BEST_BUDGET } from "./best.js";
export { genomeOf, toMapping, normalize, type Genome, type SpatialGene } from "./genome.js";
