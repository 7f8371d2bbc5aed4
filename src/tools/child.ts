/**
 * Long-running children (kubectl port-forward, kubectl logs -f, the forward watchdog). Arguments go
 * as an array, never through a shell string. Unlike dax's spawn, this keeps each child's pid, which
 * the port-forward supervisor records so that no child outlives it.
 */
import { debug } from "../ui/log.ts";

/** A running child. */
export interface Child {
  pid: number;
  status: Promise<Deno.CommandStatus>;
  kill(signal?: Deno.Signal): void;
}

/** Options for {@link spawnChild}. */
export interface SpawnOptions {
  /** each line of stdout or stderr as it comes; returning false stops decoding that stream (it is still drained) */
  onLine?: (stream: "stdout" | "stderr", line: string) => void | boolean;
  env?: Record<string, string>;
  /** detach from this process: no pipes, not awaited on exit @default false */
  detached?: boolean;
}

async function pump(
  stream: ReadableStream<Uint8Array>,
  emit: (line: string) => void | boolean,
): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = "";
  let wanted = true;
  try {
    for await (const chunk of stream) {
      if (!wanted) continue;
      buffer += decoder.decode(chunk, { stream: true });
      let nl: number;
      while (wanted && (nl = buffer.indexOf("\n")) >= 0) {
        wanted = emit(buffer.slice(0, nl).replace(/\r$/, "")) !== false;
        buffer = buffer.slice(nl + 1);
      }
      if (!wanted) buffer = "";
    }
  } catch { /* the child went away */ }
  if (buffer && wanted) emit(buffer);
}

/** Starts `argv`; its output is always drained, so a chatty child never blocks or dies on a full pipe. */
export function spawnChild(argv: string[], options: SpawnOptions = {}): Child {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "null",
    stdout: options.detached ? "null" : "piped",
    stderr: options.detached ? "null" : "piped",
    env: options.env,
  }).spawn();
  const started = performance.now();
  debug(`spawn ${argv.join(" ")} → pid ${child.pid}`);
  child.status.then((st) =>
    debug(
      `pid ${child.pid} (${argv[0]}) exited ${st.code} after ${
        (performance.now() - started).toFixed(0)
      }ms`,
    )
  );
  if (options.detached) child.unref();
  else {
    const emit = options.onLine ?? (() => {});
    pump(child.stdout, (l) => emit("stdout", l));
    pump(child.stderr, (l) => emit("stderr", l));
  }
  return {
    pid: child.pid,
    status: child.status,
    kill: (signal: Deno.Signal = "SIGTERM") => {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
    },
  };
}
