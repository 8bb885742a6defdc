/** Timeloop's formats in and out (docs/formats.md): import, export, and counts in its conventions. */
export { importTimeloop, type TimeloopSpecs, type TimeloopImport } from "./import.js";
export { exportTimeloop, type TimeloopExportInput, type TimeloopExport } from "./export.js";
export { timeloopCounts, boundingBoxFactor, peOutputPairs, levelNamesOf, type TimeloopCounts, type TimeloopActions, type CountsSource } from "./counts.js";
