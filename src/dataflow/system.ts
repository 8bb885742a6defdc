/**
 * The simulated system: which components exist and which port is joined to which, described
 * once, as data (STYLE rule 16, "Topology is data"; gem5 binds ports by name from its config
 * scripts). DESIGN.md, "The flow of one simulation": the Sequencer drives a DramChannel, a
 * GlobalBuffer, a Noc and a PeArray, each built from its part of the ArchSpec.
 *
 * {@link TOPOLOGY} lists every link as (sender `component.port`, receiver `component.port`,
 * channel capacity in transactions). The component names are the components' own names (also
 * their counters' prefixes). The Sequencer has a request and a response link with each
 * component it commands, plus `why` (the reason the PE array waits, for its stall counters); the
 * network and the PE array have a link each way between them (deliveries in, drains out). Every
 * link has the engine's default latency, one cycle.
 *
 * {@link buildSystem} constructs the engine and the components from the ArchSpec, in a fixed
 * order (DRAM, global buffer, PE array, network, then the controller: the engine evaluates them
 * in that order, which the one-cycle links keep from changing any result), then connects them
 * from the table, creating the channels in the table's order. The lifecycle is the engine's (construct ->
 * connect -> run): a link that names a port no component has, or joins two senders or two
 * receivers, is a `ConfigError`; so is a port that no link connects (at build time, naming the
 * port, rather than at the first run), and a port that two links connect (the engine's
 * `connect`).
 *
 * Not modeled here: what the links carry (each component's header says), link latencies other
 * than one cycle, several instances of a component.
 */
import { ConfigError, Engine, InPort, OutPort, type Component, type Port, type SimMode } from "../core/index.js";
import type { ArchSpec } from "../arch/spec.js";
import { DramChannel, GlobalBuffer, type RegFileLayout } from "../memory/index.js";
import { Noc, PeArray } from "../pe-array/index.js";
import type { Sequencer } from "./sequencer/index.js";

/** The components of the system, by name (each component's `name`, its counters' prefix). */
export interface SystemComponents {
  readonly dram: DramChannel;
  readonly gbuf: GlobalBuffer;
  readonly pe: PeArray;
  readonly noc: Noc;
  readonly sequencer: Sequencer;
}

type Name = keyof SystemComponents;

/** `component.port` of every port of the system whose type extends `P`. */
type PortPath<P> = {
  [N in Name]: { [K in keyof SystemComponents[N] & string]: SystemComponents[N][K] extends P ? `${N}.${K}` : never }[keyof SystemComponents[N] & string];
}[Name];

/** The port at a `component.port` path. */
type PortAt<T extends string> = T extends `${infer N extends Name}.${infer K}` ? (K extends keyof SystemComponents[N] ? SystemComponents[N][K] : never) : never;

/** A sending port of the system, as `component.port`. */
export type OutPortPath = PortPath<OutPort<unknown>>;

/**
 * One link of the topology: a channel from a sending port to a receiving port that accepts what
 * the sender sends (the type checks the names, the direction and the message type).
 */
export type Link = {
  [F in OutPortPath]: {
    readonly from: F;
    readonly to: PortPath<InPort<PortAt<F> extends OutPort<infer M> ? M : never>>;
    /** Transactions the channel holds (sent and not yet taken); a full channel refuses the sender. */
    readonly capacity: number;
  };
}[OutPortPath];

/** Every link holds up to this many transactions. */
const LINK_CAPACITY = 64;

/** The links of the system (see the file header). */
export const TOPOLOGY: readonly Link[] = Object.freeze([
  { from: "sequencer.toDram", to: "dram.cmd", capacity: LINK_CAPACITY },
  { from: "dram.resp", to: "sequencer.fromDram", capacity: LINK_CAPACITY },
  { from: "sequencer.toGbuf", to: "gbuf.cmd", capacity: LINK_CAPACITY },
  { from: "gbuf.resp", to: "sequencer.fromGbuf", capacity: LINK_CAPACITY },
  { from: "sequencer.toNoc", to: "noc.cmd", capacity: LINK_CAPACITY },
  { from: "noc.resp", to: "sequencer.fromNoc", capacity: LINK_CAPACITY },
  { from: "sequencer.toPe", to: "pe.cmd", capacity: LINK_CAPACITY },
  { from: "pe.done", to: "sequencer.fromPe", capacity: LINK_CAPACITY },
  { from: "sequencer.why", to: "pe.waitReason", capacity: LINK_CAPACITY },
  { from: "noc.peSide", to: "pe.fromNoc", capacity: LINK_CAPACITY },
  { from: "pe.toNoc", to: "noc.fromPe", capacity: LINK_CAPACITY },
] satisfies Link[]);

/** The hardware, built before the controller (which may load DRAM and needs the memories). */
export interface Hardware {
  readonly engine: Engine;
  readonly dram: DramChannel;
  readonly gbuf: GlobalBuffer;
  readonly pe: PeArray;
  readonly noc: Noc;
}

/** The whole system, connected and ready to run (call `sequencer.start()`, then `engine.run`). */
export interface System extends Hardware, SystemComponents {}

/** Options of {@link buildSystem}. */
export interface SystemOptions {
  /** Engine mode. Default `fast`. */
  readonly mode?: SimMode;
  /** Checked mode (a tag on every storage word). Default false. */
  readonly checked?: boolean;
  /** The register files the PE array allocates. Default `arch.rf`'s partitions (a shared pool needs a mapping to be split: give it here). */
  readonly rf?: RegFileLayout;
  /**
   * Builds the controller once the hardware exists, before anything is connected (`simulate`
   * loads the operands into the DRAM model here, then constructs the Sequencer over them).
   */
  readonly controller: (hw: Hardware) => Sequencer;
  /** The links. Default {@link TOPOLOGY}. */
  readonly topology?: readonly Link[];
}

/**
 * Builds the engine and the components from the ArchSpec and connects them from the topology.
 * @throws ConfigError when a spec is invalid (the components validate theirs), when a link names
 *   a port the system does not have or joins two ports of the same direction, when a port is
 *   connected twice, or when a port is left unconnected (naming the port).
 */
export function buildSystem(arch: ArchSpec, options: SystemOptions): System {
  const engine = new Engine({ mode: options.mode ?? "fast", checked: options.checked ?? false });
  const dram = new DramChannel(engine, arch.dram);
  const gbuf = new GlobalBuffer(engine, arch.gbuf);
  const rf = options.rf ?? partitionsOf(arch);
  const pe = new PeArray(engine, { array: arch.array, rf });
  const noc = new Noc(engine, { noc: arch.noc, array: arch.array, rf });
  const hw: Hardware = { engine, dram, gbuf, pe, noc };
  const sequencer = options.controller(hw);
  connect(engine, [dram, gbuf, pe, noc, sequencer], options.topology ?? TOPOLOGY);
  return { ...hw, sequencer };
}

/**
 * Creates one channel per link, in the table's order, then requires every port of every
 * component to be bound.
 */
function connect(engine: Engine, components: readonly Component[], topology: readonly Link[]): void {
  const ports = new Map<string, Port>();
  for (const c of components) for (const p of c.ports) ports.set(p.path, p);
  topology.forEach((link, i) => {
    const from = ports.get(link.from);
    const to = ports.get(link.to);
    const known = () => [...ports.keys()].join(", ");
    if (!(from instanceof OutPort)) {
      throw new ConfigError(`topology[${i}].from`, link.from, from ? "name a sending port" : `name a port of the system (${known()})`);
    }
    if (!(to instanceof InPort)) {
      throw new ConfigError(`topology[${i}].to`, link.to, to ? "name a receiving port" : `name a port of the system (${known()})`);
    }
    engine.connect(from, to, { capacity: link.capacity });
  });
  const unbound = [...ports.values()].filter((p) => !p.bound).map((p) => p.path);
  if (unbound.length > 0) {
    const others = unbound.length > 1 ? `also unbound: ${unbound.slice(1).join(", ")}` : undefined;
    throw new ConfigError(unbound[0]!, "unbound", "be connected by a link of the topology (TOPOLOGY in src/dataflow/system.ts)", others);
  }
}

/** The register-file partitions of an architecture that declares them (a shared pool is split per mapping). */
function partitionsOf(arch: ArchSpec): RegFileLayout {
  const rf = arch.rf;
  if (rf.inputEntries === undefined || rf.weightEntries === undefined || rf.psumEntries === undefined) {
    throw new ConfigError("rf", "a shared pool", "be split into partitions before the system is built (give SystemOptions.rf, e.g. from rfLayout)");
  }
  return { inputEntries: rf.inputEntries, weightEntries: rf.weightEntries, psumEntries: rf.psumEntries, readPorts: rf.readPorts, writePorts: rf.writePorts };
}
