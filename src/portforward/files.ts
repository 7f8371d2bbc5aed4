/** Where the supervisor keeps its pid, its children, its events and the mappings file the seed names. */
import { readTextIfExists, writeFileAtomic } from "../state/fs.ts";
import type { Mapping } from "./mapping.ts";

/** One line of `logs/port_forwards.json`. */
export interface ForwardEntry extends Mapping {
  /** the kubectl process new connections go to (or the one starting) */
  pid: number | null;
  /** the pod that process forwards to; null while no pod behind the service is ready */
  pod: string | null;
  status: "waiting" | "starting" | "up" | "restarting" | "stopped";
  since: string;
}

/** One line of the supervisor's events log: something that happened to a forward. */
export interface ForwardEvent {
  time: string;
  event:
    | "started"
    | "up"
    | "exited"
    | "restarting"
    | "moved"
    | "waiting"
    | "switching"
    | "removed"
    | "skipped"
    | "ignored"
    | "discovery-failed"
    | "stopped";
  /** "namespace/service", or "namespace/service:port" for one port */
  key?: string;
  local_port?: number;
  /** every local port of the service */
  local_ports?: number[];
  pid?: number;
  /** the pod the event is about */
  pod?: string;
  message?: string;
}

/** The pod a forward goes to; `waiting` while no pod behind its service is ready. */
export function podText(e: { status: string; pod?: string | null }): string {
  return e.pod ? e.pod : e.status === "stopped" ? "-" : "waiting";
}

/** The supervisor's pid file content. */
export interface SupervisorInfo {
  pid: number;
  cluster: string;
  offset: number;
  started: string;
  only?: { namespace: string; service: string };
  /** the first round of forwards has been started */
  ready?: boolean;
}

/** File locations for one cluster's forwards. */
export interface ForwardPaths {
  /** `<project>/logs/port_forwards.json` */
  mappings: string;
  pid: string;
  children: string;
  events: string;
}

/** The files of `cluster`'s supervisor. */
export function forwardPaths(
  options: { projectDir: string; stateDir: string; cluster: string },
): ForwardPaths {
  const base = `${options.stateDir}/port-forward.${options.cluster}`;
  return {
    mappings: `${options.projectDir}/logs/port_forwards.json`,
    pid: `${base}.pid`,
    children: `${base}.children`,
    events: `${base}.log`,
  };
}

/** The mappings file, or an empty list. */
export async function readMappings(path: string): Promise<ForwardEntry[]> {
  try {
    return JSON.parse((await readTextIfExists(path)) ?? "[]");
  } catch {
    return [];
  }
}

/** The mappings file's text for `entries`. */
export function mappingsText(entries: ForwardEntry[]): string {
  return JSON.stringify(entries, null, 2) + "\n";
}

/** Rewrites the mappings file atomically (`text`: {@link mappingsText} of `entries`). */
export async function writeMappings(
  path: string,
  entries: ForwardEntry[],
  text = mappingsText(entries),
): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await writeFileAtomic(path, text);
}

/** The running supervisor's pid file, if any. */
export async function readSupervisor(path: string): Promise<SupervisorInfo | undefined> {
  try {
    const text = await readTextIfExists(path);
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** The supervisor's events since `since` (an ISO time), oldest first. */
export async function readEvents(path: string, since = ""): Promise<ForwardEvent[]> {
  const text = (await readTextIfExists(path)) ?? "";
  const events: ForwardEvent[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      const e = JSON.parse(line) as ForwardEvent;
      if (e.time >= since) events.push(e);
    } catch { /* a torn last line */ }
  }
  return events;
}
