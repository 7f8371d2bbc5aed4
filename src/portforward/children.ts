/**
 * The supervisor's kubectl children: one `kubectl port-forward pod/NAME :TARGET…` per forward, on
 * private loopback ports that kubectl picks, and the watchdog that ends them if the supervisor is
 * killed. kubectl prints one `Forwarding from 127.0.0.1:PORT -> TARGET` line per port, in the order
 * given, once its stream to the API server is up (client-go tools/portforward/portforward.go,
 * v0.32.0: ForwardPorts dials first, then forward() listens, getListener prints the line at 304).
 * When its pod goes it fails the next connection, logs `"Unhandled Error" err="an error occurred
 * forwarding …"` (handleConnection, lines 366–372 and 421–426) and exits with `error: lost
 * connection to pod` (ErrLostConnectionToPod, forward() lines 241–246).
 */
import { type Child, spawnChild } from "../tools/child.ts";
import { kubectlArgv } from "../tools/kubectl.ts";

/** A service port and the port of the pod it goes to. */
export interface PortTarget {
  port: number;
  target: number;
}

/** One kubectl port-forward to one pod. */
export interface Forwarder {
  pod: string;
  child: Child;
  /** service port → the private loopback port kubectl listens on (filled as it answers) */
  ports: Map<number, number>;
  /** every port answered (true), or kubectl exited first (false) */
  ready: Promise<boolean>;
  /** kubectl said its pod is gone */
  lostPod: boolean;
  /** set once kubectl exited */
  exited?: number;
  /** the last line kubectl wrote that was not about forwarding (its errors) */
  lastError?: string;
  /** connections relayed through it now */
  conns: number;
  /** no new connection goes to it; it ends once its connections have */
  retired: boolean;
}

/** The longest partial line kept while waiting for its end. */
const MAX_LINE = 4096;

const FORWARDING = /^Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/;
const HANDLING = /^Handling connection for \d+/;
const LOST = /lost connection to pod|an error occurred forwarding/;

/** Starts kubectl for `pod`'s ports; `onExit` hears when it ends. */
export function startForwarder(
  context: string,
  namespace: string,
  pod: string,
  ports: PortTarget[],
  onExit: (f: Forwarder, code: number) => void,
): Forwarder {
  const answered = Promise.withResolvers<boolean>();
  let next = 0;
  // one pipe per forward (both streams), read through a small buffer
  const child = spawnChild(
    kubectlArgv(context, [
      "-n",
      namespace,
      "port-forward",
      `pod/${pod}`,
      ...ports.map((p) => `:${p.target}`),
      "--address",
      "127.0.0.1",
    ]),
    {
      mergeStderr: true,
      maxLine: MAX_LINE,
      onLine: (_stream, line) => {
        const forwarding = FORWARDING.exec(line);
        if (forwarding && next < ports.length) {
          f.ports.set(ports[next++].port, Number(forwarding[1]));
          if (next === ports.length) answered.resolve(true);
          return;
        }
        if (HANDLING.test(line) || !line.trim()) return;
        if (LOST.test(line)) f.lostPod = true;
        f.lastError = line.trim().slice(0, 300);
      },
    },
  );
  const f: Forwarder = {
    pod,
    child,
    ports: new Map(),
    ready: answered.promise,
    lostPod: false,
    conns: 0,
    retired: false,
  };
  child.status.then((status) => {
    f.exited = status.code;
    answered.resolve(false);
    onExit(f, status.code);
  });
  return f;
}

/** SIGTERM, then SIGKILL after 2s; resolves when the process is gone. */
export async function endChild(child: Child): Promise<void> {
  child.kill("SIGTERM");
  let t: ReturnType<typeof setTimeout> | undefined;
  const done = await Promise.race([
    child.status.then(() => true),
    new Promise<boolean>((r) => t = setTimeout(() => r(false), 2000)),
  ]);
  clearTimeout(t);
  if (!done) {
    child.kill("SIGKILL");
    await child.status;
  }
}

// waits for the supervisor to go, then ends every child still listed; positional args only
const WATCHDOG =
  'sup=$1; file=$2; while kill -0 "$sup" 2>/dev/null; do sleep 1; done; if [ -f "$file" ]; then while read -r pid; do [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; done < "$file"; fi';

/**
 * Ends every child listed in `childrenFile` once this process is gone. Silent, so no pipes to
 * hold; unref'd, so it never keeps this process alive.
 */
export function startWatchdog(childrenFile: string): Child {
  return spawnChild(["sh", "-c", WATCHDOG, "sh", String(Deno.pid), childrenFile], {
    detached: true,
  });
}
