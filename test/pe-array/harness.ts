/** Wiring of a PE array (and optionally a Noc) to a scripted driver, for the pe-array tests. */
import { Engine, type SimMode } from "../../src/core/index.js";
import type { PeArraySpec, NocSpec } from "../../src/arch/spec.js";
import type { RegFileLayout } from "../../src/memory/regfile.js";
import {
  Noc,
  PeArray,
  type NocRequest,
  type NocResponse,
  type NocToPe,
  type PeArrayCommand,
  type PeArrayDone,
  type PeReadData,
  type WaitReason,
} from "../../src/pe-array/index.js";
import { Stub } from "../core/stub.js";

export const ARRAY: PeArraySpec = { rows: 2, cols: 3, macsPerCycle: 1, pipelineLatency: 2 };
export const RF: RegFileLayout = { inputEntries: 12, weightEntries: 16, psumEntries: 8, readPorts: 2, writePorts: 1 };
export const NOC: NocSpec = { inputWordsPerCycle: 4, weightWordsPerCycle: 2, drainWordsPerCycle: 2, neighbourLinks: true };

/** A PE array driven directly (the stub plays the network). */
export function arrayOnly(mode: SimMode, checked = true, array = ARRAY, rf = RF) {
  const e = new Engine({ mode, checked });
  const s = new Stub(e);
  const pe = new PeArray(e, { array, rf });
  const cmd = s.out<PeArrayCommand>("cmd");
  const noc = s.out<NocToPe>("noc");
  const why = s.out<WaitReason>("why");
  e.connect(cmd, pe.cmd, { capacity: 8 });
  e.connect(noc, pe.fromNoc, { capacity: 8 });
  e.connect(why, pe.waitReason);
  e.connect(pe.done, s.in<PeArrayDone>("done"), { capacity: 8 });
  e.connect(pe.toNoc, s.in<PeReadData>("peData"), { capacity: 8 });
  return { e, s, pe, cmd, noc, why };
}

/** A PE array behind a Noc, both driven by the stub. */
export function arrayWithNoc(mode: SimMode, checked = true, array = ARRAY, rf = RF, nocSpec = NOC) {
  const e = new Engine({ mode, checked });
  const s = new Stub(e);
  const pe = new PeArray(e, { array, rf });
  const noc = new Noc(e, { noc: nocSpec, array, rf });
  const cmd = s.out<PeArrayCommand>("cmd");
  const nocCmd = s.out<NocRequest>("nocCmd");
  const why = s.out<WaitReason>("why");
  e.connect(cmd, pe.cmd, { capacity: 8 });
  e.connect(why, pe.waitReason);
  e.connect(pe.done, s.in<PeArrayDone>("done"), { capacity: 8 });
  e.connect(nocCmd, noc.cmd, { capacity: 8 });
  e.connect(noc.resp, s.in<NocResponse>("nocResp"), { capacity: 8 });
  e.connect(noc.peSide, pe.fromNoc, { capacity: 8 });
  e.connect(pe.toNoc, noc.fromPe, { capacity: 8 });
  return { e, s, pe, noc, cmd, nocCmd, why };
}
