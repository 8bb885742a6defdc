/**
 * Engine overhead per simulated cycle, reference vs fast mode.
 *
 * Scenario: a driver keeps 4 requests queued at a server that takes D cycles per request (a
 * Lane, the building block of every hardware model). Reference mode ticks both components every
 * cycle; fast mode jumps from completion to completion. Reported: nanoseconds of host time per
 * simulated cycle in each mode, and the speed-up.
 * Run: npx tsx bench/engine.bench.ts
 */
import b from "benny";
import { Component, Engine, Lane, type InPort, type OutPort, type SimMode } from "../src/core/index.js";

const D = 64;
const REQUESTS = 200;

class Server extends Component {
  readonly cmd: InPort<number>;
  readonly resp: OutPort<number>;
  private readonly lane: Lane<number>;
  private readonly outQ: number[] = [];
  constructor(e: Engine) {
    super(e, "server");
    this.cmd = this.inPort("cmd");
    this.resp = this.outPort("resp");
    this.lane = new Lane<number>("lane", () => D, (x) => void this.outQ.push(x));
  }
  interact(now: number): void {
    this.lane.interact(now);
    for (let m = this.cmd.pop(now); m !== undefined; m = this.cmd.pop(now)) {
      this.lane.push(m);
      this.lane.interact(now);
    }
    while (this.outQ.length && this.resp.send(now, this.outQ[0]!)) this.outQ.shift();
  }
  progress(): void {}
  horizon(now: number): number {
    if (this.cmd.ready(now) || (this.outQ.length && this.resp.canSend(now))) return 0;
    return this.lane.horizon(now);
  }
  busy(): boolean {
    return this.lane.size > 0 || this.outQ.length > 0;
  }
  status(): string {
    return this.lane.status();
  }
}

class Client extends Component {
  readonly out: OutPort<number>;
  readonly back: InPort<number>;
  private sent = 0;
  private got = 0;
  constructor(e: Engine) {
    super(e, "client");
    this.out = this.outPort("out");
    this.back = this.inPort("back");
  }
  interact(now: number): void {
    while (this.back.pop(now) !== undefined) this.got++;
    while (this.sent < REQUESTS && this.out.send(now, this.sent)) this.sent++;
  }
  progress(): void {}
  horizon(now: number): number {
    if (this.back.ready(now)) return 0;
    return this.sent < REQUESTS && this.out.canSend(now) ? 0 : Infinity;
  }
  busy(): boolean {
    return this.got < REQUESTS;
  }
  status(): string {
    return `${this.got}/${REQUESTS} answered`;
  }
}

function simulate(mode: SimMode): number {
  const e = new Engine({ mode });
  const c = new Client(e);
  const s = new Server(e);
  e.connect(c.out, s.cmd, { capacity: 4 });
  e.connect(s.resp, c.back, { capacity: 4 });
  return e.run({ maxCycles: 10_000_000 }).cycles;
}

const cyclesRef = simulate("reference");
const cyclesFast = simulate("fast");
if (cyclesRef !== cyclesFast) throw new Error(`modes disagree: ${cyclesRef} vs ${cyclesFast} cycles`);

void b.suite(
  `Engine overhead (${REQUESTS} requests x ${D} cycles = ${cyclesRef} simulated cycles)`,
  b.add("reference mode", () => simulate("reference")),
  b.add("fast mode", () => simulate("fast")),
  b.cycle(),
  b.complete((summary) => {
    const ops = Object.fromEntries(summary.results.map((r) => [r.name, r.ops]));
    const ns = (x: number) => (1e9 / x / cyclesRef).toFixed(2);
    console.log(`\nreference: ${ns(ops["reference mode"]!)} ns per simulated cycle; fast: ${ns(ops["fast mode"]!)} ns per simulated cycle`);
    console.log(`fast mode is ${(ops["fast mode"]! / ops["reference mode"]!).toFixed(1)}x faster here`);
  }),
);
