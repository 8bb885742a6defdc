/**
 * The engine: clock, component lifecycle, ports, counters, tags, boxes, units and errors.
 * Knows nothing of convolutions and imports nothing from the folders above it.
 */
export * from "./errors.js";
export * from "./units.js";
export * from "./tags.js";
export * from "./box.js";
// (primes the box helpers for every kind of number array: feedback.ts)
import "./feedback.js";
export * from "./counters.js";
export * from "./port.js";
export * from "./component.js";
export * from "./engine.js";
export * from "./lane.js";
