/**
 * PeArray bulk MAC throughput against a plain JS MAC loop over the same typed arrays, in the same
 * run (issue 4 target: the bulk path within 1.5x of the plain loop).
 *
 * Workload: a 12 x 14 array (Eyeriss-sized), every PE running psum[q] += (in[q+s]-zi)*(w[s]-zw)
 * for q < 16, s < 48 (768 MACs per PE, 129,024 per wave).
 * Cases: `plain loop` (the same arithmetic over the same Int32Arrays, no simulator);
 * `runWave kernel` (the compiled wave in JavaScript: reference mode's path, and fast mode's where
 * WebAssembly is unavailable); `WebAssembly kernels` (the same wave through the WebAssembly kernels:
 * fast mode's path, here the `vred` kernel; see WaveKernels); `PeArray via engine` (waves sent as commands to a
 * PeArray in fast mode: WebAssembly kernel + engine + ports + counters + stall attribution).
 * Run: npx tsx bench/pe-array.bench.ts
 */
import b from "benny";
import { Component, Engine, type OutPort, type InPort } from "../src/core/index.js";
import { PeArray, compileWave, runWave, type MacWave, type PeArrayCommand, type PeArrayDone, type WaitReason, type NocToPe, type PeReadData } from "../src/pe-array/index.js";

const ROWS = 12, COLS = 14, Q = 16, S = 48;
const array = { rows: ROWS, cols: COLS, macsPerCycle: 1, pipelineLatency: 1 };
const rf = { inputEntries: Q + S - 1, weightEntries: S, psumEntries: Q, readPorts: 2, writePorts: 1 };
const wave: MacWave = {
  pes: { row0: 0, col0: 0, rows: ROWS, cols: COLS },
  loops: [Q, S],
  input: { offset: 0, strides: [1, 1] },
  weight: { offset: 0, strides: [0, 1] },
  psum: { offset: 0, strides: [1, 0] },
  inputZero: 3,
  weightZero: -1,
};
const MACS_PER_WAVE = ROWS * COLS * Q * S;
const WAVES_PER_RUN = 20;

/** Sends WAVES_PER_RUN waves back to back and waits for their completions. */
class WaveDriver extends Component {
  readonly cmd: OutPort<PeArrayCommand>;
  readonly done: InPort<PeArrayDone>;
  readonly noc: OutPort<NocToPe>;
  readonly why: OutPort<WaitReason>;
  readonly data: InPort<PeReadData>;
  private toSend = 0;
  private outstanding = 0;
  constructor(e: Engine) {
    super(e, "driver");
    this.cmd = this.outPort("cmd");
    this.done = this.inPort("done");
    this.noc = this.outPort("noc");
    this.why = this.outPort("why");
    this.data = this.inPort("data");
  }
  start(n: number): void {
    this.toSend = n;
  }
  interact(now: number): void {
    while (this.done.pop(now)) this.outstanding--;
    while (this.toSend > 0 && this.cmd.send(now, { op: "wave", id: this.toSend, wave })) {
      this.toSend--;
      this.outstanding++;
    }
  }
  progress(): void {}
  horizon(now: number): number {
    if (this.done.ready(now)) return 0;
    return this.toSend > 0 && this.cmd.canSend(now) ? 0 : Infinity;
  }
  busy(): boolean {
    return this.toSend > 0 || this.outstanding > 0;
  }
  status(): string {
    return `${this.outstanding} waves outstanding`;
  }
}

function makeEngine() {
  const e = new Engine({ mode: "fast" });
  const d = new WaveDriver(e);
  const pe = new PeArray(e, { array, rf });
  e.connect(d.cmd, pe.cmd, { capacity: 2 });
  e.connect(pe.done, d.done, { capacity: 2 });
  e.connect(d.noc, pe.fromNoc);
  e.connect(d.why, pe.waitReason);
  e.connect(pe.toNoc, d.data);
  fill(pe.rf.data.input, pe.rf.data.weight);
  return { e, d, pe };
}

function fill(inp: Int32Array, wt: Int32Array): void {
  for (let i = 0; i < inp.length; i++) inp[i] = ((i * 37) % 255) - 127;
  for (let i = 0; i < wt.length; i++) wt[i] = ((i * 53) % 255) - 128;
}

// Plain loop state: the same layout (structure of arrays, one slice per PE).
const P = ROWS * COLS;
const pin = new Int32Array(P * rf.inputEntries);
const pwt = new Int32Array(P * rf.weightEntries);
const pps = new Int32Array(P * rf.psumEntries);
fill(pin, pwt);
function plainLoop(): void {
  const zi = 3, zw = -1;
  for (let p = 0; p < P; p++) {
    const ib = p * rf.inputEntries, wb = p * rf.weightEntries, pb = p * rf.psumEntries;
    for (let q = 0; q < Q; q++) {
      let acc = pps[pb + q]!;
      for (let s = 0; s < S; s++) acc = (acc + (pin[ib + q + s]! - zi) * (pwt[wb + s]! - zw)) | 0;
      pps[pb + q] = acc;
    }
  }
}

const kernel = makeEngine();
const cw = compileWave("pe", wave, kernel.pe.rf, false);
const viaEngine = makeEngine();

// Sanity: the kernel and the plain loop compute the same thing.
{
  const k = makeEngine();
  const c = compileWave("pe", wave, k.pe.rf, false);
  runWave(c, k.pe.rf, COLS, 0, c.macs);
  const ref = new Int32Array(pps.length);
  const save = pps.slice();
  plainLoop();
  ref.set(pps);
  pps.set(save);
  for (let i = 0; i < ref.length; i++) if (ref[i] !== k.pe.rf.data.psum[i]) throw new Error(`kernel and plain loop differ at ${i}`);
  const k2 = makeEngine();
  if (!k2.pe.kernels?.run(compileWave("pe", wave, k2.pe.rf, false), k2.pe.rf, COLS)) throw new Error("the WebAssembly kernels did not run");
  for (let i = 0; i < ref.length; i++) if (ref[i] !== k2.pe.rf.data.psum[i]) throw new Error(`WebAssembly kernel and plain loop differ at ${i}`);
}

void b.suite(
  `PeArray bulk MACs (${ROWS}x${COLS} PEs, ${Q * S} MACs/PE/wave)`,
  b.add("plain loop (1 wave)", () => plainLoop()),
  b.add("runWave kernel (1 wave)", () => runWave(cw, kernel.pe.rf, COLS, 0, cw.macs)),
  b.add("WebAssembly kernels (1 wave)", () => kernel.pe.kernels!.run(cw, kernel.pe.rf, COLS)),
  b.add(`PeArray via engine, fast mode (${WAVES_PER_RUN} waves, per wave)`, () => {
    viaEngine.d.start(WAVES_PER_RUN);
    viaEngine.e.run({ maxCycles: Number.MAX_SAFE_INTEGER });
  }),
  b.cycle(),
  b.complete((summary) => {
    const ops = Object.fromEntries(summary.results.map((r) => [r.name, r.ops]));
    const plain = ops["plain loop (1 wave)"]!;
    const kern = ops["runWave kernel (1 wave)"]!;
    const wasm = ops["WebAssembly kernels (1 wave)"]!;
    const eng = ops[`PeArray via engine, fast mode (${WAVES_PER_RUN} waves, per wave)`]! * WAVES_PER_RUN;
    const m = (x: number) => ((x * MACS_PER_WAVE) / 1e6).toFixed(0);
    console.log(`\nplain loop: ${m(plain)} M MAC/s; JS kernel: ${m(kern)} M MAC/s; WebAssembly kernels: ${m(wasm)} M MAC/s; PeArray via engine: ${m(eng)} M MAC/s`);
    console.log(`ratio plain/kernel = ${(plain / kern).toFixed(2)}x (target <= 1.5x); WebAssembly/JS kernel = ${(wasm / kern).toFixed(2)}x`);
    console.log(`ratio plain/PeArray-via-engine = ${(plain / eng).toFixed(2)}x (target <= 1.5x)`);
  }),
);
