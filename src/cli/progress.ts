/**
 * Progress on a terminal: a bar for simulations (MACs done, MACs per second, time left) and a
 * one-line note while synchronous work runs. Drawn on stderr only when `io.isTTY` (stderr is a
 * terminal and CI is unset), so piped and CI output stays clean.
 */
import type { Io } from "./args.js";

/** Formats seconds as `m:ss` (or `h:mm:ss`). */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/**
 * A progress bar on stderr: layers done, MACs per second, time left (from the MAC rate). Drawn
 * only when `io.isTTY` (an interactive terminal, CI unset); redrawn at most ten times a second.
 */
export class ProgressBar {
  private readonly t0 = performance.now();
  private last = 0;
  private drawn = false;

  constructor(
    private readonly io: Io,
    private readonly totalJobs: number,
    private readonly totalMacs: number,
    private readonly label = "layers",
  ) {}

  /** Updates the bar with the MACs done and the jobs finished. */
  update(macs: number, finished: number): void {
    if (!this.io.isTTY) return;
    const now = performance.now();
    if (now - this.last < 100 && finished < this.totalJobs) return;
    this.last = now;
    const secs = (now - this.t0) / 1000;
    const frac = this.totalMacs > 0 ? Math.min(1, macs / this.totalMacs) : finished / Math.max(1, this.totalJobs);
    const width = 24;
    const fill = Math.round(frac * width);
    const rate = secs > 0 ? macs / secs : 0;
    const left = rate > 0 ? (this.totalMacs - macs) / rate : Number.NaN;
    const rateText = rate >= 1e6 ? `${(rate / 1e6).toFixed(1)} M` : `${(rate / 1e3).toFixed(1)} k`;
    this.io.err(`\r[${"#".repeat(fill)}${".".repeat(width - fill)}] ${finished}/${this.totalJobs} ${this.label}  ${rateText}MAC/s  ${formatDuration(left)} left  `);
    this.drawn = true;
  }

  /** Clears the bar's line. */
  finish(): void {
    if (this.drawn) this.io.err(`\r${" ".repeat(80)}\r`);
  }
}

/**
 * A one-line note on stderr while synchronous work runs (drawn only when `io.isTTY`); returns the
 * function that clears it.
 */
export function busyNote(io: Io, text: string): () => void {
  if (!io.isTTY) return () => undefined;
  io.err(`\r${text}`);
  return () => io.err(`\r${" ".repeat(text.length)}\r`);
}

