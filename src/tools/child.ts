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
  /**
   * stderr into the same pipe as stdout, its lines given as stdout's (one pipe per child); `sh`
   * execs the command, so the pid is the command's own @default false
   */
  mergeStderr?: boolean;
  /** the longest partial line kept while waiting for its end @default unlimited */
  maxLine?: number;
}

/** Bytes read from a pipe at a time: small, so that many children hold little memory. */
const READ_BUFFER = 1024;

/** Emits `stream`'s lines, read through one small buffer; a partial line keeps its last `maxLine` characters. */
async function pump(
  stream: ReadableStream<Uint8Array>,
  emit: (line: string) => void | boolean,
  maxLine = Infinity,
): Promise<void> {
  const reader = stream.getReader({ mode: "byob" });
  const decoder = new TextDecoder();
  let buffer = new Uint8Array(READ_BUFFER);
  let text = "";
  let wanted = true;
  try {
    while (true) {
      const { value, done } = await reader.read(buffer);
      if (done || !value) break;
      buffer = new Uint8Array(value.buffer);
      if (!wanted) continue;
      text += decoder.decode(value, { stream: true });
      let nl: number;
      while (wanted && (nl = text.indexOf("\n")) >= 0) {
        wanted = emit(text.slice(0, nl).replace(/\r$/, "")) !== false;
        text = text.slice(nl + 1);
      }
      text = !wanted ? "" : text.length > maxLine ? text.slice(-maxLine) : text;
    }
  } catch { /* the child went away */ }
  if (text && wanted) emit(text);
}

/** Starts `argv`; its output is always drained, so a chatty child never blocks or dies on a full pipe. */
export function spawnChild(argv: string[], options: SpawnOptions = {}): Child {
  // arguments stay an array: the shell only redirects, it never parses them
  const full = options.mergeStderr ? ["sh", "-c", 'exec "$@" 2>&1', "sh", ...argv] : argv;
  const child = new Deno.Command(full[0], {
    args: full.slice(1),
    stdin: "null",
    stdout: options.detached ? "null" : "piped",
    stderr: options.detached || options.mergeStderr ? "null" : "piped",
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
    pump(child.stdout, (l) => emit("stdout", l), options.maxLine);
    if (!options.mergeStderr) pump(child.stderr, (l) => emit("stderr", l), options.maxLine);
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
