import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import {
  Channel,
  Component,
  ConfigError,
  CounterRegistry,
  Engine,
  StallError,
  boxSize,
  checkTags,
  gather,
  scatter,
  tagOf,
  tagIndex,
  tagSpace,
  InvariantError,
  Lane,
  Outbox,
  InPort,
  OutPort,
} from "../../src/core/index.js";
import { Stub, bothModes } from "./stub.js";

/** A unit that answers each request `d` cycles after popping it (a Lane), counting requests. */
class Echo extends Component {
  readonly cmd: InPort<number>;
  readonly resp: OutPort<number>;
  private readonly lane: Lane<number>;
  private outQ: number[] = [];
  readonly served;
  constructor(engine: Engine, name: string, readonly d: number) {
    super(engine, name);
    this.cmd = this.inPort<number>("cmd");
    this.resp = this.outPort<number>("resp");
    this.served = this.counter("served", "requests", "requests answered");
    this.lane = new Lane<number>("lane", () => d, (x) => {
      this.served.value++;
      this.outQ.push(x);
    });
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
    if (this.cmd.ready(now)) return 0;
    if (this.outQ.length) return this.resp.canSend(now) ? 0 : Infinity;
    return this.lane.horizon(now);
  }
  busy(): boolean {
    return this.lane.size > 0 || this.outQ.length > 0;
  }
  status(): string {
    return this.lane.status();
  }
}

describe("Channel", () => {
  it("delivers after its latency and refuses when full (backpressure)", () => {
    const ch = new Channel<string>("a->b", { latency: 3, capacity: 2 });
    expect(ch.send(0, "x")).toBe(true);
    expect(ch.send(0, "y")).toBe(true);
    expect(ch.send(0, "z")).toBe(false);
    expect(ch.peek(2)).toBeUndefined();
    expect(ch.nextArrival(0)).toBe(3);
    expect(ch.pop(3)).toBe("x");
    // The slot freed in cycle 3 is free for the sender from cycle 4 on, whatever the order.
    expect(ch.canSend(3)).toBe(false);
    expect(ch.canSend(4)).toBe(true);
  });

  it("rejects a latency below one cycle", () => {
    expect(() => new Channel("a->b", { latency: 0 })).toThrow(ConfigError);
    expect(() => new Channel("a->b", { latency: 0 })).toThrow("a->b.latency must be an integer >= 1");
  });
});

describe("Engine lifecycle", () => {
  it("refuses to run with an unbound port", () => {
    const e = new Engine();
    new Echo(e, "echo", 2);
    expect(() => e.run({ maxCycles: 10 })).toThrow(ConfigError);
    expect(() => e.run({ maxCycles: 10 })).toThrow("echo.cmd must be connected before the run");
  });

  it("rejects duplicate component names", () => {
    const e = new Engine();
    new Echo(e, "echo", 2);
    expect(() => new Echo(e, "echo", 2)).toThrow("component name must be unique within an engine");
  });

  function echoScenario(mode: "reference" | "fast", d: number, n: number, capacity = 2) {
    const e = new Engine({ mode });
    const s = new Stub(e);
    const echo = new Echo(e, "echo", d);
    const out = s.out<number>("cmd");
    e.connect(out, echo.cmd, { capacity });
    e.connect(echo.resp, s.in<number>("resp"));
    for (let i = 0; i < n; i++) s.send(out, i, 0);
    const r = e.run({ maxCycles: 10_000 });
    return { cycles: r.cycles, got: s.on("resp").map((x) => [x.cycle, x.msg]), counters: e.counters.values() };
  }

  it("serves requests back to back with exact timing, identically in both modes", () => {
    const { reference, fast } = bothModes((m) => echoScenario(m, 5, 3));
    expect(fast).toEqual(reference);
    // Sent in cycles 0, 0 and 2 (capacity 2; the slot freed in 1 is free in 2), popped in 1, 6, 11; done in 5, 10, 15; seen in 6, 11, 16.
    expect(reference.got).toEqual([
      [6, 0],
      [11, 1],
      [16, 2],
    ]);
    expect(reference.counters["echo.served"]).toBe(3);
    expect(reference.cycles).toBe(17);
  });

  it("throws a StallError naming the busy component when the cap is reached", () => {
    const e = new Engine({ mode: "fast" });
    const s = new Stub(e);
    const echo = new Echo(e, "echo", 1000);
    const out = s.out<number>("cmd");
    e.connect(out, echo.cmd);
    e.connect(echo.resp, s.in<number>("resp"));
    s.send(out, 1);
    let err: unknown;
    try {
      e.run({ maxCycles: 50 });
    } catch (x) {
      err = x;
    }
    expect(err).toBeInstanceOf(StallError);
    expect((err as StallError).kind).toBe("cap");
    expect((err as StallError).cycle).toBe(50);
    expect((err as Error).message).toContain("echo: lane: busy until cycle 1000");
  });

  it("detects a deadlock in fast mode (a response nobody drains)", () => {
    // The echo's response channel has capacity 1 and the receiving port belongs to a component that never pops.
    class Sink extends Component {
      readonly inp: InPort<number>;
      constructor(e: Engine) {
        super(e, "sink");
        this.inp = this.inPort<number>("in");
      }
      interact(): void {}
      progress(): void {}
      horizon(): number {
        return Infinity;
      }
      busy(): boolean {
        return false;
      }
      status(): string {
        return "never pops";
      }
    }
    const e = new Engine({ mode: "fast" });
    const s = new Stub(e);
    const echo = new Echo(e, "echo", 1);
    const sink = new Sink(e);
    const out = s.out<number>("cmd");
    e.connect(out, echo.cmd, { capacity: 4 });
    e.connect(echo.resp, sink.inp, { capacity: 1 });
    for (let i = 0; i < 3; i++) s.send(out, i);
    expect(() => e.run({ maxCycles: 1000 })).toThrow(/deadlock at cycle \d+.*echo/);
  });

  it("fast mode skips interact() of a component whose horizon is not 0 and that has no message waiting", () => {
    // Two echoes on one stub: a slow one (one request, busy for 40 cycles) and a fast one fed
    // every cycle for 10 cycles. Ticks happen for the fast one; the slow one must be left alone
    // while its lane runs, and woken by its arrival and by its lane's end.
    class CountingEcho extends Echo {
      interacts: number[] = [];
      override interact(now: number): void {
        this.interacts.push(now);
        super.interact(now);
      }
    }
    const scenario = (mode: "reference" | "fast") => {
      const e = new Engine({ mode });
      const s = new Stub(e);
      const slow = new CountingEcho(e, "slow", 40);
      const quick = new CountingEcho(e, "quick", 1);
      const toSlow = s.out<number>("toSlow");
      const toQuick = s.out<number>("toQuick");
      e.connect(toSlow, slow.cmd);
      e.connect(toQuick, quick.cmd, { capacity: 16 });
      e.connect(slow.resp, s.in<number>("fromSlow"));
      e.connect(quick.resp, s.in<number>("fromQuick"), { capacity: 16 });
      s.send(toSlow, 7, 0);
      for (let i = 0; i < 10; i++) s.send(toQuick, i, i);
      const r = e.run({ maxCycles: 1000 });
      return { cycles: r.cycles, got: s.received.map((x) => [x.port, x.cycle, x.msg]), slow: slow.interacts, quick: quick.interacts.length };
    };
    const ref = scenario("reference");
    const fast = scenario("fast");
    expect(fast.got).toEqual(ref.got);
    expect(fast.cycles).toBe(ref.cycles);
    // The request arrives in cycle 1 (popped; the lane's 40 cycles end in cycle 40, when the
    // response leaves): two interacts, against one per cycle in reference mode.
    expect(fast.slow).toEqual([1, 40]);
    expect(ref.slow.length).toBe(ref.cycles);
    expect(fast.quick).toBeGreaterThanOrEqual(10);
  });

  it("gives the same results whatever the registration order of the components", () => {
    const run = (first: "stub" | "echo") => {
      const e = new Engine({ mode: "reference" });
      let s: Stub;
      let echo: Echo;
      if (first === "stub") {
        s = new Stub(e);
        echo = new Echo(e, "echo", 3);
      } else {
        echo = new Echo(e, "echo", 3);
        s = new Stub(e);
      }
      const out = s.out<number>("cmd");
      e.connect(out, echo.cmd, { capacity: 1 });
      e.connect(echo.resp, s.in<number>("resp"), { capacity: 1 });
      for (let i = 0; i < 4; i++) s.send(out, i);
      const r = e.run({ maxCycles: 1000 });
      return { cycles: r.cycles, got: s.on("resp").map((x) => [x.cycle, x.msg]) };
    };
    expect(run("echo")).toEqual(run("stub"));
  });
});

describe("Outbox", () => {
  it("sends in order per port, keeps what a full channel refuses (and everything after it on that port), and retries", () => {
    const chA = new Channel<string>("a", { capacity: 1 });
    const chB = new Channel<string>("b", { capacity: 4 });
    const a = new OutPort<string>("x", "a");
    const b = new OutPort<string>("x", "b");
    a.bind(chA);
    b.bind(chB);
    const inA = new InPort<string>("y", "a");
    inA.bind(chA);
    const box = new Outbox();
    for (const [p, m] of [[a, "a1"], [a, "a2"], [b, "b1"], [a, "a3"], [b, "b2"]] as const) box.post(p, m);
    box.flush(0);
    // a1 and both b messages go; a2 is refused, and a3 waits behind it.
    expect(box.size).toBe(2);
    expect(chB.size).toBe(2);
    expect(box.horizon(0)).toBe(Infinity);
    expect(inA.pop(1)).toBe("a1");
    // A slot freed in cycle 1 is free from cycle 2.
    expect(box.horizon(1)).toBe(Infinity);
    expect(box.horizon(2)).toBe(0);
    box.flush(2);
    expect(box.size).toBe(1);
    expect(inA.pop(3)).toBe("a2");
    expect(box.horizon(4)).toBe(0);
    box.flush(4);
    expect(box.size).toBe(0);
    expect(inA.pop(5)).toBe("a3");
    box.flush(6);
    expect(box.horizon(6)).toBe(Infinity);
  });
});

describe("Outbox, many messages behind full channels", () => {
  /** The plain rule, as a walk over every waiting message: a port's first refusal blocks the rest of that port. */
  class PlainOutbox {
    waiting: { port: OutPort<number>; msg: number }[] = [];
    post(port: OutPort<number>, msg: number) {
      this.waiting.push({ port, msg });
    }
    flush(now: number) {
      const blocked = new Set<OutPort<number>>();
      this.waiting = this.waiting.filter((m) => {
        if (blocked.has(m.port) || !m.port.send(now, m.msg)) {
          blocked.add(m.port);
          return true;
        }
        return false;
      });
    }
    horizon(now: number) {
      return this.waiting.some((m) => m.port.canSend(now)) ? 0 : Infinity;
    }
  }

  /** Ports on channels of capacities `caps`, their receivers, and what each receiver took when. */
  const rig = (caps: number[]) =>
    caps.map((capacity, k) => {
      const ch = new Channel<number>(`c${k}`, { capacity });
      const out = new OutPort<number>("x", `p${k}`);
      const inp = new InPort<number>("y", `p${k}`);
      out.bind(ch);
      inp.bind(ch);
      return { out, inp, got: [] as [number, number][] };
    });

  it("sends what the plain rule sends, cycle by cycle, on random traffic over four ports", () => {
    for (let seed = 0; seed < 20; seed++) {
      const rng = seedrandom(`outbox/${seed}`);
      const caps = [1, 2, 4, 64].map((c) => (rng() < 0.5 ? c : 1));
      const a = rig(caps);
      const b = rig(caps);
      const box = new Outbox();
      const plain = new PlainOutbox();
      let next = 0;
      for (let now = 0; now < 400; now++) {
        // Bursts of up to 300 messages (most on one port) now and then.
        const burst = rng() < 0.1 ? Math.floor(rng() * 300) : Math.floor(rng() * 3);
        const hot = Math.floor(rng() * 4);
        for (let k = 0; k < burst; k++) {
          const p = rng() < 0.8 ? hot : Math.floor(rng() * 4);
          box.post(a[p]!.out, next);
          plain.post(b[p]!.out, next);
          next++;
        }
        expect(box.horizon(now)).toBe(plain.horizon(now));
        box.flush(now);
        plain.flush(now);
        expect(box.size).toBe(plain.waiting.length);
        // The receivers take what has arrived now and then, the same in both rigs.
        for (let p = 0; p < 4; p++) {
          if (rng() < 0.6) continue;
          for (const r of [a[p]!, b[p]!]) for (let m = r.inp.pop(now); m !== undefined; m = r.inp.pop(now)) r.got.push([now, m]);
        }
      }
      for (let now = 400; now < 40_000 && (box.size > 0 || plain.waiting.length > 0); now++) {
        box.flush(now);
        plain.flush(now);
        for (const r of [...a, ...b]) for (let m = r.inp.pop(now); m !== undefined; m = r.inp.pop(now)) r.got.push([now, m]);
      }
      expect(box.size).toBe(0);
      expect(a.map((r) => r.got)).toEqual(b.map((r) => r.got));
    }
  });

  it("names the ports still refusing in its status", () => {
    const [p0, p1] = rig([1, 1]);
    const box = new Outbox();
    for (let m = 0; m < 5; m++) box.post(p0!.out, m);
    box.post(p1!.out, 9);
    box.flush(0);
    expect(box.size).toBe(4);
    expect(box.status()).toBe("4 message(s) refused by x.p0 (receiver full)");
  });
});

describe("CounterRegistry", () => {
  it("registers hierarchical names with unit and description and snapshots plain JSON", () => {
    const r = new CounterRegistry();
    const c = r.register("gbuf.read.input", "words", "input words read");
    c.value += 7;
    r.register("dram.read.weight", "words", "weight words read");
    const snap = r.snapshot();
    expect(Object.keys(snap)).toEqual(["dram.read.weight", "gbuf.read.input"]);
    expect(snap["gbuf.read.input"]).toEqual({ value: 7, unit: "words", description: "input words read" });
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
    expect(r.sum("gbuf.")).toBe(7);
    expect(() => r.register("gbuf.read.input", "words", "again")).toThrow(ConfigError);
    expect(() => r.register("Bad Name", "words", "x")).toThrow(ConfigError);
  });

  it("keeps a counter's value in an array slot once moved there: the value moves, counts land in the slot, snapshots read it", () => {
    const r = new CounterRegistry();
    const a = r.register("gbuf.read.input", "words", "input words read");
    const b = r.register("gbuf.read.weight", "words", "weight words read");
    a.value += 5;
    b.value += 2;
    const cells = new Float64Array(3);
    a.moveTo(cells, 2);
    b.moveTo(cells, 0);
    expect([...cells]).toEqual([2, 0, 5]);
    a.value += 4;
    expect(cells[2]).toBe(9);
    cells[0] = 11;
    expect(b.value).toBe(11);
    expect(r.values()).toEqual({ "gbuf.read.input": 9, "gbuf.read.weight": 11 });
    expect(() => a.moveTo(cells, 3)).toThrow(/slot 3 of gbuf.read.input is outside an array of 3/);
    expect(a.value).toBe(9);
  });
});

describe("tags and boxes", () => {
  it("encodes space and index exactly", () => {
    const t = tagOf(3, 123456789);
    expect(tagSpace(t)).toBe(3);
    expect(tagIndex(t)).toBe(123456789);
    expect(() => tagOf(0, 1)).toThrow(InvariantError);
  });

  it("gathers and scatters strided boxes (round trip)", () => {
    const src = Int16Array.from({ length: 60 }, (_, i) => i * 3 - 50);
    const box = { shape: [3, 2, 4], offset: 5, strides: [20, 7, 1] };
    const dense = new Int16Array(boxSize(box.shape));
    gather(src, box, dense);
    expect(Array.from(dense.slice(0, 6))).toEqual([5, 6, 7, 8, 12, 13].map((i) => i * 3 - 50));
    const back = new Int16Array(60);
    scatter(dense, 0, back, box);
    for (let a = 0; a < 3; a++) for (let b = 0; b < 2; b++) for (let c = 0; c < 4; c++) {
      const i = 5 + a * 20 + b * 7 + c;
      expect(back[i]).toBe(src[i]);
    }
  });

  it("checkTags names the component, the address and both tags", () => {
    const tags = new Float64Array(8);
    for (let i = 0; i < 8; i++) tags[i] = tagOf(1, i);
    tags[5] = tagOf(1, 99);
    const names = new Map([[1, "x"]]);
    expect(() => checkTags("gbuf", tags, { shape: [8], offset: 0, strides: [1] }, { space: 1, offset: 0, strides: [1] }, (a) => `word ${a}`, names)).toThrow(
      "gbuf: checked read of word 5 expected x[5] but the word holds x[99]",
    );
  });
});
