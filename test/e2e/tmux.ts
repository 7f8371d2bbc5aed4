/** A real terminal for end-to-end tests of full-screen commands: a private tmux server, keys in, screen out. */
import type { SimHost } from "../sim/harness.ts";
import { HANG_MS, until } from "../wait.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** The prompt of the shell in the pane, to tell when a command gave the terminal back. */
export const PROMPT = "sim$ ";

/** One tmux session on its own socket, started with the simulated host's environment. */
export class Terminal {
  readonly socket: string;
  readonly #env: Record<string, string>;
  readonly #cwd: string;

  constructor(h: SimHost, env: Record<string, string | undefined> = {}) {
    this.#cwd = h.projectDir;
    this.socket = `${h.root}/tmux-${crypto.randomUUID().slice(0, 8)}.sock`;
    const merged: Record<string, string> = { ...h.env, TERM: "xterm-256color" };
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete merged[k];
      else merged[k] = v;
    }
    this.#env = merged;
  }

  async #tmux(args: string[]): Promise<string> {
    const r = await new Deno.Command("tmux", {
      args: ["-S", this.socket, "-f", "/dev/null", ...args],
      env: this.#env,
      clearEnv: true,
      cwd: this.#cwd,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(r.stderr);
    if (r.code !== 0) throw new Error(`tmux ${args.join(" ")}: ${err}`);
    return new TextDecoder().decode(r.stdout);
  }

  /** Starts a shell in a `width`×`height` window; its environment is the simulated host's. */
  async start(width: number, height: number): Promise<void> {
    // bash takes its prompt from a startup file, not from the environment
    const rc = `${this.socket}.bashrc`;
    await Deno.writeTextFile(rc, `PS1='${PROMPT}'\n`);
    await this.#tmux([
      "new-session",
      "-d",
      "-c",
      this.#cwd,
      "-s",
      "t",
      "-x",
      String(width),
      "-y",
      String(height),
      `bash --noprofile --rcfile ${rc}`,
    ]);
    await this.waitFor("the shell prompt", (s) => s.includes(PROMPT.trim()));
  }

  /** Types `text` and Enter into the shell: `firestream ARGS` runs, then its exit code is printed. */
  async firestream(args: string[]): Promise<void> {
    const line = [Deno.execPath(), "run", "-A", "--quiet", `${ROOT}/main.ts`, ...args].join(" ");
    await this.type(`${line}; echo "exit=$?"`);
    await this.keys("Enter");
  }

  /** Types text as it is. */
  async type(text: string): Promise<void> {
    await this.#tmux(["send-keys", "-t", "t", "-l", text]);
  }

  /** Presses keys by tmux's names (Enter, Escape, Tab, Down, C-c) or single characters. */
  async keys(...keys: string[]): Promise<void> {
    for (const k of keys) await this.#tmux(["send-keys", "-t", "t", k]);
  }

  /** The screen as text; with `escapes`, with the colour and attribute sequences too. */
  capture(escapes = false): Promise<string> {
    return this.#tmux(["capture-pane", "-p", "-t", "t", ...(escapes ? ["-e"] : [])]);
  }

  /** A tmux format of the pane, e.g. `#{cursor_flag}` or `#{alternate_on}`. */
  async pane(format: string): Promise<string> {
    return (await this.#tmux(["display-message", "-p", "-t", "t", format])).trim();
  }

  /** Resizes the window (the program in it gets SIGWINCH). */
  async resize(width: number, height: number): Promise<void> {
    await this.#tmux(["resize-window", "-t", "t", "-x", String(width), "-y", String(height)]);
  }

  /** Waits until the screen satisfies `test`; fails with the last screen after a hang's limit. */
  async waitFor(what: string, test: (screen: string) => boolean, ms = HANG_MS): Promise<string> {
    let screen = "";
    try {
      return await until(what, async () => test(screen = await this.capture()) && screen, ms);
    } catch (err) {
      throw new Error(`${(err as Error).message}; the screen:\n${screen}`);
    }
  }

  /** Ends the tmux server and everything in it. */
  async close(): Promise<void> {
    await this.#tmux(["kill-server"]).catch(() => {});
  }
}
