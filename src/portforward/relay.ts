/**
 * The local listening sockets and the relay behind them: each connection to a forwarded local port
 * goes to the kubectl port-forward its service uses now, on that kubectl's private loopback port.
 * The supervisor swaps that kubectl for another (a new pod) without closing the local port: new
 * connections go to the new one while the old one's connections finish. A connection that arrives
 * while no kubectl answers is held for a few seconds rather than refused. A connection that kubectl
 * failed because its pod was gone (closed without a byte back, kubectl reporting the lost pod) never
 * reached the pod: its bytes are sent again through the next kubectl.
 */
import type { Forwarder } from "./children.ts";

/** How long a connection waits for a kubectl to go to while none is starting (no ready pod). */
export const HOLD_MS = 5000;

/** How long a connection waits at most while a kubectl is starting. */
const START_HOLD_MS = 30_000;

/** The most bytes a connection keeps, until its first answer, to send again through another kubectl. */
const REPLAY_BYTES = 64 * 1024;

/** Bytes read at a time per direction of a connection. */
const CHUNK = 64 * 1024;

/** How long a connection that got nothing back waits for kubectl to say whether its pod was gone. */
const VERDICT_MS = 1500;

/** Which kubectl a service's connections go to; waiters hear when that changes. */
export class Route {
  #current?: Forwarder;
  #waiters = new Set<() => void>();
  /** a kubectl is starting: waiting connections wait for it beyond the short hold */
  #starting = false;

  get current(): Forwarder | undefined {
    return this.#current;
  }

  /** New connections go to `f` from now on (none while undefined). */
  set(f: Forwarder | undefined): void {
    this.#current = f;
    for (const w of this.#waiters) w();
    this.#waiters.clear();
  }

  /** Whether a kubectl is starting for this service. */
  starting(yes: boolean): void {
    this.#starting = yes;
    if (!yes) this.wake();
  }

  /**
   * The kubectl to use, not one in `skip`: waiting until `since` + {@link HOLD_MS} for one, or up
   * to {@link START_HOLD_MS} while one is starting.
   */
  async take(since: number, skip: Set<Forwarder>): Promise<Forwarder | undefined> {
    while (true) {
      const f = this.#current;
      if (f && !skip.has(f) && !f.retired && f.exited === undefined) return f;
      const left = since + (this.#starting ? START_HOLD_MS : HOLD_MS) - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          this.#waiters.delete(done);
          resolve();
        };
        const t = setTimeout(done, left);
        this.#waiters.add(done);
      });
    }
  }

  /** Wakes every waiting connection (to give up or look again). */
  wake(): void {
    this.set(this.#current);
  }
}

/** What the relay tells the supervisor. */
export interface RelayHooks {
  /** a retired kubectl's last connection ended */
  idle(f: Forwarder): void;
  /** a kubectl did not take a connection, or lost its pod */
  failed(f: Forwarder): void;
}

/** Binds a local port on loopback (throws Deno.errors.AddrInUse when another program holds it). */
export function listenLocal(port: number): Deno.TcpListener {
  return Deno.listen({ hostname: "127.0.0.1", port });
}

/** Accepts connections on `listener` (service port `port`) until it is closed. */
export async function serveRelay(
  listener: Deno.TcpListener,
  port: number,
  route: Route,
  hooks: RelayHooks,
): Promise<void> {
  try {
    for await (const conn of listener) {
      relay(conn, port, route, hooks).catch(() => {});
    }
  } catch { /* closed */ }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

function close(conn: Deno.Conn | undefined): void {
  try {
    conn?.close();
  } catch { /* closed */ }
}

/** Whether kubectl `f` reports that its pod is gone, within {@link VERDICT_MS}. */
async function lostPod(f: Forwarder): Promise<boolean> {
  const end = Date.now() + VERDICT_MS;
  let exitedAt: number | undefined;
  while (!f.lostPod && Date.now() < end) {
    if (f.exited !== undefined) {
      exitedAt ??= Date.now();
      // its last lines may be read just after its exit
      if (Date.now() - exitedAt > 200) break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return f.lostPod;
}

/** One client connection, relayed to the service's kubectl (and to the next one if its pod was gone). */
async function relay(
  client: Deno.TcpConn,
  port: number,
  route: Route,
  hooks: RelayHooks,
): Promise<void> {
  client.setNoDelay(true);
  const since = Date.now();
  const tried = new Set<Forwarder>();
  let f: Forwarder | undefined;
  let up: Deno.TcpConn | undefined;
  const release = (g: Forwarder) => {
    g.conns--;
    if (g.retired && g.conns === 0) hooks.idle(g);
  };
  const connect = async (): Promise<boolean> => {
    while (true) {
      f = await route.take(since, tried);
      if (!f) return false;
      const target = f.ports.get(port);
      try {
        if (target === undefined) throw new Error("no such port");
        up = await Deno.connect({ hostname: "127.0.0.1", port: target });
        up.setNoDelay(true);
        f.conns++;
        return true;
      } catch {
        tried.add(f);
        hooks.failed(f);
      }
    }
  };
  if (!(await connect())) return close(client);

  // what the client sent before the first answer, to send again through another kubectl
  let sent: Uint8Array[] | undefined = [];
  let sentBytes = 0;
  /** chunks of `sent` that a reconnect already sent: the reader does not write them again */
  let resent = 0;
  let switching: Promise<boolean> | undefined;
  let clientDone = false;

  const toUp = (async () => {
    const buf = new Uint8Array(CHUNK);
    let index = 0;
    while (true) {
      let n: number | null;
      try {
        n = await client.read(buf);
      } catch {
        n = null;
      }
      if (n === null) {
        clientDone = true;
        await switching;
        try {
          await up?.closeWrite();
        } catch { /* gone */ }
        return;
      }
      let chunk = buf.subarray(0, n);
      const i = index++;
      if (sent) {
        chunk = chunk.slice();
        sent.push(chunk);
        sentBytes += n;
        if (sentBytes > REPLAY_BYTES) sent = undefined;
      }
      if (switching && !(await switching)) return;
      if (sent && i < resent) continue;
      try {
        await writeAll(up!, chunk);
      } catch {
        // replayed through the next kubectl if this one lost its pod; otherwise the end
        if (!sent) return;
      }
    }
  })();

  const buf = new Uint8Array(CHUNK);
  while (true) {
    let got = 0;
    try {
      while (true) {
        const n = await up!.read(buf);
        if (n === null) break;
        got += n;
        sent = undefined;
        await writeAll(client, buf.subarray(0, n));
      }
    } catch { /* either side went away */ }
    const used = f!;
    release(used);
    if (got === 0 && sent && await lostPod(used)) {
      // kubectl failed the connection before it reached the pod: the next kubectl takes it
      tried.add(used);
      hooks.failed(used);
      close(up);
      const replay = sent;
      switching = (async () => {
        if (!(await connect())) return false;
        resent = replay.length;
        try {
          for (const c of replay) await writeAll(up!, c);
          if (clientDone) await up!.closeWrite();
        } catch { /* read below sees it */ }
        return true;
      })();
      if (await switching) continue;
    }
    break;
  }
  close(up);
  close(client);
  await toUp.catch(() => {});
}
