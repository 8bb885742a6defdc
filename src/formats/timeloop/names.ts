/**
 * Timeloop's names for convsim's dimensions and tensors (docs/formats.md, "Timeloop").
 *
 * Timeloop's `cnn-layer` problem projects the input's width on R and P (`R*Wdilation + P*Wstride`)
 * and its height on S and Q (`S*Hdilation + Q*Hstride`): its P is the output **width** and R the
 * kernel width, its Q the output height and S the kernel height. convsim's P is the output height
 * and R the kernel height. So the names swap: Timeloop P = convsim Q, Q = P, R = S, S = R. The
 * output channels are K in Timeloop v0.3's cnn-layer and M in v0.4's; N and C are the same.
 */
import type { Dim, TensorName } from "../../dataflow/mapping.js";

/** A dimension letter of Timeloop's cnn-layer problem. */
export type TimeloopDim = "N" | "C" | "K" | "M" | "P" | "Q" | "R" | "S";

/** convsim's dimension for each Timeloop cnn-layer dimension. */
export const FROM_TIMELOOP: Readonly<Record<TimeloopDim, Dim>> = Object.freeze({ N: "N", C: "C", K: "K", M: "K", P: "Q", Q: "P", R: "S", S: "R" });

/** Timeloop's (v0.3) dimension for each convsim dimension; convsim's G has none (cnn-layer has no groups). */
export const TO_TIMELOOP: Readonly<Record<Exclude<Dim, "G">, TimeloopDim>> = Object.freeze({ N: "N", C: "C", K: "K", P: "Q", Q: "P", R: "S", S: "R" });

/** Timeloop's data-space names, by convsim tensor. */
export const DATASPACE: Readonly<Record<TensorName, string>> = Object.freeze({ input: "Inputs", weight: "Weights", output: "Outputs" });

/** convsim's tensor for each Timeloop data-space name. */
export const TENSOR_OF: Readonly<Record<string, TensorName>> = Object.freeze({ Inputs: "input", Weights: "weight", Outputs: "output" });

/** Whether a string is a cnn-layer dimension letter. */
export function isTimeloopDim(s: string): s is TimeloopDim {
  return Object.prototype.hasOwnProperty.call(FROM_TIMELOOP, s);
}

/** The bare name of an architecture level: `PE[0..167]` -> `PE`. */
export function bareName(name: string): string {
  return name.replace(/\[[^\]]*\]\s*$/, "").trim();
}

/** The instance count a name's range gives: `PE[0..167]` -> 168, `buf[1..16]` -> 16, `buf` -> 1; undefined when malformed. */
export function rangeCount(name: string): number | undefined {
  const m = /\[\s*(\d+)\s*\.\.\s*(\d+)\s*\]\s*$/.exec(name);
  if (!m) return /\[/.test(name) ? undefined : 1;
  const lo = Number(m[1]);
  const hi = Number(m[2]);
  return hi >= lo ? hi - lo + 1 : undefined;
}
