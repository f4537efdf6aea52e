/**
 * Reads a V8 CPU profile (`node --cpu-prof`, the `.cpuprofile` JSON: a call tree of nodes with
 * their call frames, and the sampled node of every tick with the time since the previous tick)
 * and measures how much of the sampled time ran in a given set of source files:
 * - inclusive: samples whose stack holds at least one frame from those files (their own code and
 *   everything it called synchronously, native built-ins and libraries included);
 * - self: samples whose innermost JavaScript frame is from those files.
 * A sample's time is the interval up to the next sample (the last one: up to the profile's end).
 */

export interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber?: number };
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  /** µs */
  readonly startTime: number;
  /** µs */
  readonly endTime: number;
  readonly samples: readonly number[];
  /** µs since the previous sample (the first: since startTime). */
  readonly timeDeltas: readonly number[];
}

export interface CodeShare {
  /** Profile end − start, ms. */
  readonly profiledMs: number;
  readonly samples: number;
  /** Samples with a matching frame anywhere on the stack, ms. */
  readonly inclusiveMs: number;
  /** Samples whose innermost frame matches, ms. */
  readonly selfMs: number;
  /** "(garbage collector)" samples, ms (V8 does not say whose allocations caused them). */
  readonly gcMs: number;
  /** "(idle)" samples: the thread waited for I/O, ms. */
  readonly idleMs: number;
  /** Matching functions by self time, most first (at most 10): `name file:line ms`. */
  readonly topSelf: readonly { readonly frame: string; readonly ms: number }[];
}

export function codeShare(profile: CpuProfile, matches: (url: string) => boolean): CodeShare {
  const byId = new Map<number, CpuProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  // Whether a node's stack (the node and its ancestors) holds a matching frame: top-down from the roots.
  const inStack = new Map<number, boolean>();
  const queue: number[] = profile.nodes.filter((n) => !parent.has(n.id)).map((n) => n.id);
  for (let q = 0; q < queue.length; q++) {
    const id = queue[q] as number;
    const node = byId.get(id);
    if (node === undefined) continue;
    const up = parent.get(id);
    inStack.set(id, (up !== undefined && inStack.get(up) === true) || matches(node.callFrame.url));
    for (const child of node.children ?? []) queue.push(child);
  }
  let inclusive = 0;
  let self = 0;
  let gc = 0;
  let idle = 0;
  const selfByFrame = new Map<string, number>();
  const { samples, timeDeltas } = profile;
  let at = profile.startTime;
  const stamps = timeDeltas.map((d) => {
    at += d;
    return at;
  });
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] as number;
    const next = i + 1 < stamps.length ? (stamps[i + 1] as number) : profile.endTime;
    const us = Math.max(0, next - (stamps[i] as number));
    const node = byId.get(id);
    if (node === undefined) continue;
    const name = node.callFrame.functionName;
    if (name === '(garbage collector)') gc += us;
    else if (name === '(idle)') idle += us;
    if (inStack.get(id) === true) inclusive += us;
    if (matches(node.callFrame.url)) {
      self += us;
      const frame = `${name || '(anonymous)'} ${node.callFrame.url.replace(/^.*\/dist\//, '')}:${(node.callFrame.lineNumber ?? 0) + 1}`;
      selfByFrame.set(frame, (selfByFrame.get(frame) ?? 0) + us);
    }
  }
  const topSelf = [...selfByFrame.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([frame, us]) => ({ frame, ms: Math.round(us / 100) / 10 }));
  return {
    profiledMs: (profile.endTime - profile.startTime) / 1000,
    samples: samples.length,
    inclusiveMs: inclusive / 1000,
    selfMs: self / 1000,
    gcMs: gc / 1000,
    idleMs: idle / 1000,
    topSelf,
  };
}
