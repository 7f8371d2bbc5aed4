/** `firestream ui`: one terminal screen for the cluster, the host, the registry, the forwards, the pods and their logs. */
import { FirestreamError } from "../errors.ts";
import { hostsFilePath, resolvConfPath } from "../host/system_file.ts";
import { age, diagnose, renderDiagnostics } from "../observe/diagnostics.ts";
import { type LiveFacts, LiveModel, LogStream } from "../observe/live.ts";
import { selfArgv } from "../portforward/control.ts";
import { spawnChild } from "../tools/child.ts";
import { kubeconfigContext } from "../tools/k3d_names.ts";
import { canPrompt } from "../ui/confirm.ts";
import { configureLog } from "../ui/log.ts";
import { Output } from "../ui/output.ts";
import {
  beside,
  box,
  colorWanted,
  fit,
  type Key,
  type Painter,
  painter,
  printable,
  readKeys,
  Screen,
} from "../ui/screen.ts";
import { renderPlan } from "../ui/plan.ts";
import { clustersRead, LiveCache } from "../../tasks/context.ts";
import { startPlan } from "./plan.ts";
import type { GlobalFlags } from "./session.ts";

/** Flags of `firestream ui`. */
export interface UiFlags {
  /** seconds between refreshes @default 2 */
  interval?: number;
}

/** The one line said where a full-screen view cannot run. */
export const NO_TERMINAL =
  "firestream ui needs a terminal: use `firestream cluster info --json`, or `firestream cluster info --watch` for plain text every few seconds";

const PANES = ["cluster", "host", "registry", "forwards", "workloads", "logs"] as const;
type Pane = typeof PANES[number];
const TITLES: Record<Pane, string> = {
  cluster: "Cluster",
  host: "Host",
  registry: "Registry",
  forwards: "Forwards",
  workloads: "Workloads",
  logs: "Logs",
};

/** The keys, as the footer and `?` show them. */
export const KEYS: [string, string][] = [
  ["Enter", "logs of the selected pod"],
  ["/", "filter the logs (or the pods)"],
  ["n", "next namespace (all, then each)"],
  ["p", "show the plan"],
  ["a", "apply, after showing the plan and asking"],
  ["r", "restart the selected forward"],
  ["d", "write a diagnostics report to a file"],
  ["Tab ←→", "switch pane"],
  ["↑↓ PgUp PgDn", "move, scroll"],
  ["?", "this help"],
  ["q Ctrl-C", "leave"],
];
const FOOTER = "Enter:logs /:filter n:ns p:plan a:apply r:restart d:diag ?:help q:quit Tab:pane";

interface Overlay {
  title: string;
  lines: string[];
  scroll: number;
  /** `confirm`: typing `yes` then Enter applies */
  kind: "text" | "confirm" | "apply";
}

/** `text` in lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += Math.max(1, width)) out.push(text.slice(i, i + width));
  return out;
}

function sleep(ms: number, wake: { resolve?: () => void }): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      wake.resolve = undefined;
      resolve();
    }
    wake.resolve = done;
  });
}

/** Appends what the view did to `.firestream/tui.log`. */
function tuiLog(file: string): (line: string) => void {
  let queue = Promise.resolve();
  return (line: string) => {
    const text = `${new Date().toISOString()} ${line}\n`;
    queue = queue.then(() => Deno.writeTextFile(file, text, { append: true })).catch(() => {});
  };
}

/** `firestream ui [--interval SECONDS]`. */
export async function ui(flags: GlobalFlags, opts: UiFlags): Promise<number> {
  if (!canPrompt()) throw new FirestreamError(NO_TERMINAL);
  const interval = opts.interval ?? 2;
  if (!(interval >= 0.5 && interval <= 3600)) {
    throw new FirestreamError(`--interval must be between 0.5 and 3600 seconds, got ${interval}`);
  }
  // debug lines on stderr would write over the screen: they stay in the log files
  configureLog({ level: "warn" });
  const start = await startPlan(flags);
  const { session, tasks, planning } = start;
  // the first plan uses the `k3d cluster list` startPlan began; each later one reads afresh
  let first: LiveCache | undefined = start.live;
  const cluster = session.loaded.config.cluster.k3d.name;
  const context = kubeconfigContext(cluster);
  await Deno.mkdir(session.stateDir, { recursive: true });
  const log = tuiLog(`${session.stateDir}/tui.log`);
  log(`start: cluster ${cluster}, every ${interval}s`);
  const model: LiveModel = new LiveModel({
    cluster,
    context,
    projectDir: session.loaded.projectDir,
    stateDir: session.stateDir,
    log,
    plan: async () => {
      const state = await session.store.read();
      const live = first ?? new LiveCache();
      first = undefined;
      live.begin(clustersRead);
      const plan = await planning.makePlan(session, { tasks, live, state });
      return { plan, live, state };
    },
    files: (): string[] =>
      [
        session.loaded.file,
        `${session.stateDir}/state.json`,
        hostsFilePath(),
        resolvConfPath(),
        model.record?.resources.tls?.cert,
      ].filter((f): f is string => Boolean(f)),
  });
  const view = new View(model, {
    cluster,
    context,
    interval,
    paint: painter(colorWanted(flags.color === false)),
    color: colorWanted(flags.color === false),
    stateDir: session.stateDir,
    applyArgv: [
      ...selfArgv(),
      ...(session.loaded.file ? ["--config", session.loaded.file] : []),
      "--state-dir",
      session.stateDir,
      "--no-color",
      "apply",
      "--yes",
    ],
    log,
  });
  return await view.run();
}

interface ViewOptions {
  cluster: string;
  context: string;
  interval: number;
  paint: Painter;
  color: boolean;
  stateDir: string;
  applyArgv: string[];
  log: (line: string) => void;
}

/** The screen, its state and its keys. */
class View {
  #m: LiveModel;
  #o: ViewOptions;
  #screen = new Screen();
  #logs: LogStream;
  #focus: Pane = "workloads";
  #sel: Record<Pane, number> = {
    cluster: 0,
    host: 0,
    registry: 0,
    forwards: 0,
    workloads: 0,
    logs: 0,
  };
  /** lines scrolled back from the end of the logs (0: follow) */
  #logBack = 0;
  #filter = { logs: "", workloads: "" };
  #input?: string;
  #overlay?: Overlay;
  #status = { text: "", at: 0 };
  #done = new AbortController();
  #wake: { resolve?: () => void } = {};
  #renderTimer?: ReturnType<typeof setTimeout>;
  #applying = false;

  constructor(model: LiveModel, options: ViewOptions) {
    this.#m = model;
    this.#o = options;
    this.#logs = new LogStream({ onChange: () => this.#requestRender() });
  }

  async run(): Promise<number> {
    const onResize = () => {
      this.#screen.invalidate();
      this.#render();
    };
    const onSignal = () => this.#done.abort();
    const signals: Deno.Signal[] = ["SIGTERM", "SIGHUP", "SIGINT"];
    Deno.addSignalListener("SIGWINCH", onResize);
    for (const s of signals) Deno.addSignalListener(s, onSignal);
    this.#screen.enter();
    try {
      this.#render();
      const keys = this.#readKeys();
      await this.#refreshLoop();
      await keys.catch(() => {});
      return 0;
    } finally {
      this.#screen.leave();
      Deno.removeSignalListener("SIGWINCH", onResize);
      for (const s of signals) Deno.removeSignalListener(s, onSignal);
      clearTimeout(this.#renderTimer);
      await Promise.all([this.#m.close(), this.#logs.close()]);
      this.#o.log("leave");
    }
  }

  async #refreshLoop(): Promise<void> {
    const abort = () => this.#wake.resolve?.();
    this.#done.signal.addEventListener("abort", abort, { once: true });
    while (!this.#done.signal.aborted) {
      await this.#m.round();
      if (this.#done.signal.aborted) break;
      this.#render();
      await sleep(this.#o.interval * 1000, this.#wake);
    }
  }

  async #readKeys(): Promise<void> {
    const keys = readKeys(this.#done.signal);
    const done = new Promise<IteratorResult<Key>>((r) =>
      this.#done.signal.addEventListener("abort", () => r({ done: true, value: undefined }), {
        once: true,
      })
    );
    while (!this.#done.signal.aborted) {
      const next = await Promise.race([keys.next(), done]);
      if (next.done) {
        this.#done.abort();
        break;
      }
      try {
        await this.#key(next.value);
      } catch (err) {
        this.#say(`error: ${err instanceof Error ? err.message : err}`);
        this.#o.log(`error: ${err instanceof Error ? err.stack : err}`);
      }
      this.#render();
    }
  }

  #say(text: string): void {
    this.#status = { text, at: Date.now() };
    this.#o.log(text);
  }

  #requestRender(): void {
    if (this.#renderTimer !== undefined) return;
    this.#renderTimer = setTimeout(() => {
      this.#renderTimer = undefined;
      this.#render();
    }, 50);
  }

  /** Wakes the refresh loop for a round now (it never starts a second one meanwhile). */
  #refreshNow(): void {
    this.#wake.resolve?.();
  }

  async #key(key: Key): Promise<void> {
    const char = typeof key === "object" ? key.char : undefined;
    if (key === "ctrl-c") return this.#done.abort();
    if (key === "ctrl-l") return this.#screen.invalidate();
    if (this.#input !== undefined) return this.#filterKey(key);
    if (this.#overlay) return await this.#overlayKey(key);
    if (char === "q") return this.#done.abort();
    const i = PANES.indexOf(this.#focus);
    if (key === "tab" || key === "right") this.#focus = PANES[(i + 1) % PANES.length];
    else if (key === "backtab" || key === "left") {
      this.#focus = PANES[(i + PANES.length - 1) % PANES.length];
    } else if (key === "up" || char === "k") this.#move(-1);
    else if (key === "down" || char === "j") this.#move(1);
    else if (key === "pageup") this.#move(-10);
    else if (key === "pagedown") this.#move(10);
    else if (key === "enter") await this.#openLogs();
    else if (key === "escape") {
      this.#filter[this.#focus === "workloads" ? "workloads" : "logs"] = "";
    } else if (char === "/") {
      this.#input = this.#filter[this.#focus === "workloads" ? "workloads" : "logs"];
    } else if (char === "n") this.#nextNamespace();
    else if (char === "p") this.#showPlan("text");
    else if (char === "a") this.#showPlan("confirm");
    else if (char === "r") this.#restartForward();
    else if (char === "d") await this.#diagnostics();
    else if (char === "?") {
      this.#overlay = {
        title: "Keys",
        kind: "text",
        scroll: 0,
        lines: [
          ...KEYS.map(([k, what]) => `  ${k.padEnd(14)} ${what}`),
          "",
          `  Refreshed every ${this.#o.interval} s; pods and nodes are watched, the plan is made again when`,
          "  a file it reads changes or a node changes (and at least every 30 s). Esc closes this.",
        ],
      };
    }
  }

  #filterKey(key: Key): void {
    const which = this.#focus === "workloads" ? "workloads" : "logs";
    if (key === "enter") {
      this.#filter[which] = this.#input ?? "";
      this.#input = undefined;
    } else if (key === "escape") {
      this.#input = undefined;
      this.#filter[which] = "";
    } else if (key === "backspace") this.#input = (this.#input ?? "").slice(0, -1);
    else if (typeof key === "object") this.#input += key.char;
    this.#filter[which] = this.#input ?? this.#filter[which];
    if (which === "logs") this.#logBack = 0;
  }

  async #overlayKey(key: Key): Promise<void> {
    const o = this.#overlay!;
    const char = typeof key === "object" ? key.char : undefined;
    if (o.kind === "confirm") {
      if (key === "escape") {
        this.#overlay = undefined;
        return this.#say("apply cancelled; nothing was changed");
      }
      if (key === "enter") {
        const typed = this.#confirmText;
        this.#confirmText = "";
        if (typed !== "yes") {
          this.#overlay = undefined;
          return this.#say(`apply cancelled (typed "${typed}", not "yes"); nothing was changed`);
        }
        return this.#apply();
      }
      if (key === "backspace") this.#confirmText = this.#confirmText.slice(0, -1);
      else if (char) this.#confirmText += char;
      else if (key === "up") o.scroll = Math.max(0, o.scroll - 1);
      else if (key === "down") o.scroll++;
      return;
    }
    if (key === "escape" || char === "q") {
      if (o.kind === "apply" && this.#applying) return this.#say("apply is running: wait for it");
      this.#overlay = undefined;
      return;
    }
    if (key === "up" || char === "k") o.scroll = Math.max(0, o.scroll - 1);
    else if (key === "down" || char === "j") o.scroll++;
    else if (key === "pageup") o.scroll = Math.max(0, o.scroll - 10);
    else if (key === "pagedown") o.scroll += 10;
    else if (key === "home") o.scroll = 0;
    await Promise.resolve();
  }

  #confirmText = "";

  #move(by: number): void {
    if (this.#focus === "logs") {
      this.#logBack = Math.max(0, this.#logBack - by);
      return;
    }
    this.#sel[this.#focus] = Math.max(0, this.#sel[this.#focus] + by);
  }

  #visiblePods(): NonNullable<LiveFacts["workloads"]["value"]>["pods"] {
    const pods = this.#m.facts.workloads.value?.pods ?? [];
    const f = this.#filter.workloads;
    return f ? pods.filter((p) => `${p.namespace}/${p.name} ${p.status}`.includes(f)) : pods;
  }

  async #openLogs(): Promise<void> {
    if (this.#focus !== "workloads") {
      if (this.#focus === "logs") return;
      this.#focus = "workloads";
      return;
    }
    const pods = this.#visiblePods();
    const pod = pods[Math.min(this.#sel.workloads, pods.length - 1)];
    if (!pod) return this.#say("no pod selected");
    this.#filter.logs = "";
    this.#logBack = 0;
    this.#focus = "logs";
    this.#say(`logs of ${pod.namespace}/${pod.name}`);
    await this.#logs.open(this.#o.context, pod.namespace, pod.name);
  }

  #nextNamespace(): void {
    const names = ["all", ...(this.#m.facts.workloads.value?.namespaces ?? [])];
    const next = names[(names.indexOf(this.#m.namespace) + 1) % names.length];
    this.#m.namespace = next;
    this.#sel.workloads = 0;
    this.#m.rereadWorkloads();
    this.#say(`namespace ${next}`);
    this.#refreshNow();
  }

  #showPlan(kind: "text" | "confirm"): void {
    const plan = this.#m.facts.plan;
    if (!plan.value) {
      return this.#say(plan.error ? `no plan: ${plan.error}` : "the plan is still being made");
    }
    const changes = plan.value.changes.some((c) => c.action !== "no-op");
    if (kind === "confirm" && !changes) {
      return this.#say("No changes. The machine matches the configuration: nothing to apply.");
    }
    // plain, so that long lines wrap in the overlay
    const text = renderPlan(plan.value, (_c, s) => s);
    const made = new Date(plan.at ?? Date.now()).toLocaleTimeString();
    this.#confirmText = "";
    this.#overlay = {
      title: kind === "confirm" ? "Apply this plan?" : `Plan (made ${made})`,
      kind,
      scroll: 0,
      lines: text.split("\n"),
    };
  }

  #apply(): void {
    this.#applying = true;
    const o: Overlay = { title: "Apply", kind: "apply", scroll: 0, lines: [] };
    this.#overlay = o;
    this.#o.log(`apply: ${this.#o.applyArgv.join(" ")}`);
    const child = spawnChild(this.#o.applyArgv, {
      mergeStderr: true,
      onLine: (_s, line) => {
        o.lines.push(line);
        o.scroll = Math.max(0, o.lines.length - 10);
        this.#o.log(`apply| ${line}`);
        this.#requestRender();
      },
    });
    child.status.then((st) => {
      this.#applying = false;
      o.lines.push("", `apply exited ${st.code}. Esc closes this.`);
      this.#say(st.code === 0 ? "apply finished" : `apply failed (exit ${st.code})`);
      this.#m.replan();
      this.#refreshNow();
      this.#requestRender();
    });
  }

  #restartForward(): void {
    const f = this.#m.facts.forwards.value;
    if (this.#focus !== "forwards") return this.#say("select a forward in the Forwards pane first");
    if (!f?.supervisor) {
      return this.#say("no supervisor runs: `firestream cluster port-forward --detach` starts one");
    }
    const e = f.entries[Math.min(this.#sel.forwards, f.entries.length - 1)];
    if (!e?.pid) return this.#say("that forward has no process now");
    try {
      Deno.kill(e.pid, "SIGTERM");
      this.#say(
        `restarting ${e.service}.${e.namespace} (stopped pid ${e.pid}; the supervisor starts it again)`,
      );
    } catch (err) {
      this.#say(`could not stop pid ${e.pid}: ${(err as Error).message}`);
    }
    this.#refreshNow();
  }

  async #diagnostics(): Promise<void> {
    this.#say("writing a diagnostics report…");
    this.#render();
    const report = await diagnose({
      context: this.#o.context,
      cluster: this.#o.cluster,
      sections: ["nodes", "pods", "services", "events"],
      namespace: this.#m.namespace,
      summary: false,
    });
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
    const file = `${this.#o.stateDir}/diagnostics-${stamp}.txt`;
    await Deno.writeTextFile(file, renderDiagnostics(report, new Output({ noColor: true })) + "\n");
    const cwd = `${Deno.cwd()}/`;
    this.#say(`diagnostics written to ${file.startsWith(cwd) ? file.slice(cwd.length) : file}`);
  }

  // ---- drawing ----

  #render(): void {
    try {
      this.#screen.draw(this.#frame());
    } catch (err) {
      this.#o.log(`draw failed: ${err instanceof Error ? err.stack : err}`);
    }
  }

  #frame(): string[] {
    const { columns: w, rows: h } = this.#screen.size();
    const p = this.#o.paint;
    const f = this.#m.facts;
    const c = f.cluster.value;
    const status = c?.status ?? (f.cluster.error ? "unknown" : "reading…");
    const statusColor = status === "running" ? "green" : status === "reading…" ? "gray" : "yellow";
    const when = f.round.at ? new Date(f.round.at).toLocaleTimeString() : "-";
    const header = fit(
      `${p("bold", "firestream")} ${this.#o.cluster} ${
        p(statusColor, status)
      } · namespace ${this.#m.namespace} · ${when} · every ${this.#o.interval}s`,
      w,
    );
    const body = h - 2;
    const left = Math.floor(w / 2);
    const right = w - left;
    const r1 = Math.max(5, Math.floor(body * 0.3));
    const r2 = Math.max(5, Math.floor(body * 0.25));
    const r3 = Math.max(4, body - r1 - r2);
    let rows: string[];
    if (this.#overlay) rows = this.#overlayRows(w, body);
    else {
      const pane = (name: Pane, width: number, height: number) => {
        const lines = this.#lines(name, width - 2, height - 2);
        return box(this.#title(name), lines, { width, height }, {
          focused: this.#focus === name,
          paint: p,
        });
      };
      rows = [
        ...beside(pane("cluster", left, r1), pane("host", right, r1)),
        ...beside(pane("registry", left, r2), pane("forwards", right, r2)),
        ...beside(pane("workloads", left, r3), pane("logs", right, r3)),
      ];
    }
    const footer = this.#input !== undefined
      ? `/${this.#input}_   Enter keeps the filter, Esc clears it`
      : this.#overlay?.kind === "confirm"
      ? `Type yes and press Enter to apply; Esc cancels: ${this.#confirmText}_`
      : Date.now() - this.#status.at < 8000
      ? this.#status.text
      : FOOTER;
    return [header, ...rows.slice(0, body), fit(p("gray", footer), w)];
  }

  #title(name: Pane): string {
    const f = this.#m.facts;
    if (name === "logs") {
      const t = this.#logs.target;
      const filter = this.#filter.logs ? ` /${this.#filter.logs}` : "";
      return t ? `Logs ${t.namespace}/${t.pod}${filter}` : `Logs${filter}`;
    }
    if (name === "workloads") {
      const filter = this.#filter.workloads ? ` /${this.#filter.workloads}` : "";
      return `Workloads ${this.#m.namespace}${filter}`;
    }
    if (name === "host" && f.host.value?.some((i) => i.status === "drift")) return "Host: drift";
    return TITLES[name];
  }

  /** A pane's lines, scrolled so that its selection shows. */
  #lines(name: Pane, width: number, height: number): string[] {
    const p = this.#o.paint;
    const f = this.#m.facts;
    // a failed read is said whole, over as many lines as it takes
    const errorLine = (e?: string) =>
      e ? wrap(`read failed: ${printable(e)}`, width).map((l) => p("red", l)) : [];
    const mark = (ok: string, text: string) =>
      ok === "ok" ? p("green", text) : ok === "off" ? p("gray", text) : p("yellow", text);
    let lines: string[] = [];
    let selected = -1;
    switch (name) {
      case "cluster": {
        const c = f.cluster.value;
        lines = errorLine(f.cluster.error);
        if (c) {
          lines.push(`${c.status}  k3s ${c.k3s.join(", ") || "-"}`);
          // k3d names every node k3d-<cluster>-<role>-<n>: the role and number say enough here
          const prefix = `k3d-${c.name}-`;
          for (const n of c.nodes) {
            const m = f.metrics.value?.[n.name];
            const state = n.ready ?? (n.running ? "running" : "stopped");
            const short = n.name.startsWith(prefix) ? n.name.slice(prefix.length) : n.name;
            lines.push(
              `${short} ${state === "Ready" ? p("green", state) : p("yellow", state)}${
                m ? `  cpu ${m.cpu}  mem ${m.memory}` : ""
              }`,
            );
          }
          lines.push(`api ${c.api ?? "-"}`);
          if (f.metrics.error) lines.push(...wrap(f.metrics.error, width).map((l) => p("gray", l)));
        } else if (!f.cluster.error) lines.push(p("gray", "reading…"));
        break;
      }
      case "host": {
        lines = errorLine(f.host.error);
        for (const item of f.host.value ?? []) {
          lines.push(
            `${mark(item.status, item.status.padEnd(6))} ${item.name.padEnd(8)} ${item.detail}`,
          );
        }
        if (!f.host.value && !f.host.error) lines.push(p("gray", "planning…"));
        break;
      }
      case "registry": {
        const r = f.registry.value;
        lines = errorLine(f.registry.error);
        if (!this.#m.record?.resources.registry) lines.push(p("gray", "no registry recorded"));
        if (r) {
          lines.push(`${r.url} ${r.healthy ? p("green", "healthy") : p("red", "not answering")}`);
          if (r.healthy) {
            lines.push(`${r.repositories.length} repositories`);
            for (const repo of r.repositories) {
              lines.push(`  ${repo.name}: ${repo.tags.join(", ") || "(no tags)"}`);
            }
          }
        }
        break;
      }
      case "forwards": {
        const fw = f.forwards.value;
        lines = errorLine(f.forwards.error);
        if (fw) {
          lines.push(
            fw.supervisor
              ? `supervisor pid ${fw.supervisor}, ${
                fw.entries.filter((e) => e.status === "up").length
              }/${fw.entries.length} up`
              : p("gray", "supervisor not running"),
          );
          const sel = Math.min(this.#sel.forwards, fw.entries.length - 1);
          fw.entries.forEach((e, i) => {
            if (i === sel && this.#focus === "forwards") selected = lines.length;
            lines.push(
              `${e.service}.${e.namespace}:${e.port} → ${e.local_port}  ${
                mark(e.status === "up" ? "ok" : "x", e.status)
              }  restarts ${e.restarts}${e.pod ? `  pod ${e.pod}` : ""}`,
            );
          });
        }
        break;
      }
      case "workloads": {
        lines = errorLine(f.workloads.error);
        const pods = this.#visiblePods();
        const all = this.#m.namespace === "all";
        const rows = pods.map((x) => [
          all ? `${x.namespace}/${x.name}` : x.name,
          x.ready,
          x.status,
          String(x.restarts),
          age(x.created),
        ]);
        const head = ["NAME", "READY", "STATUS", "RESTARTS", "AGE"];
        const widths = [0, 1, 2, 3, 4].map((i) =>
          Math.max(head[i].length, ...rows.map((r) => r[i].length))
        );
        // the name gives way first: the figures stay readable in a narrow pane
        const rest = widths.slice(1).reduce((a, b) => a + b + 1, 0);
        const gutter = this.#o.color ? 0 : 2;
        widths[0] = Math.max(8, Math.min(widths[0], width - gutter - 1 - rest));
        for (const r of rows) {
          if (r[0].length > widths[0]) r[0] = r[0].slice(0, widths[0] - 1) + "…";
        }
        const row = (r: string[]) => r.map((cell, i) => cell.padEnd(widths[i])).join(" ");
        lines.push(p("bold", row(head)));
        const sel = Math.min(this.#sel.workloads, pods.length - 1);
        this.#sel.workloads = Math.max(0, sel);
        rows.forEach((r, i) => {
          if (i === sel) selected = lines.length;
          lines.push(row(r));
        });
        if (!f.workloads.value && !f.workloads.error) lines.push(p("gray", "reading…"));
        const warnings = f.workloads.value?.warnings ?? [];
        if (warnings.length) {
          lines.push(p("yellow", "Warning events"));
          for (const e of warnings.slice(0, 5)) {
            lines.push(p("yellow", `${e.reason} ${e.object}: ${printable(e.message)}`));
          }
        }
        break;
      }
      case "logs": {
        const l = this.#logs;
        if (!l.target) return [p("gray", "Enter on a pod in Workloads shows its logs here")];
        const f = this.#filter.logs;
        const shown = (f ? l.lines.filter((x) => x.includes(f)) : l.lines).map(printable);
        if (l.error) shown.push(p("red", l.error));
        if (l.ended) shown.push(p("gray", "— stream ended"));
        const end = Math.max(0, shown.length - this.#logBack);
        return shown.slice(Math.max(0, end - height), end);
      }
    }
    if (!this.#o.color && (name === "workloads" || name === "forwards")) {
      // without colour the selection is a marker in a gutter every line keeps
      lines = lines.map((l, i) => `${i === selected ? ">" : " "} ${l}`);
    } else if (selected >= 0) lines[selected] = p("inverse", fit(lines[selected], width));
    // a pane without a selection scrolls by its own count
    const top = selected >= 0
      ? Math.max(0, selected - height + 1)
      : Math.min(this.#sel[name], Math.max(0, lines.length - height));
    if (selected < 0) this.#sel[name] = top;
    return lines.slice(top, top + height);
  }

  #overlayRows(w: number, h: number): string[] {
    const o = this.#overlay!;
    const inner = h - 2;
    // long lines continue on the next, indented as they began
    const all = o.lines.flatMap((raw) => {
      const l = printable(raw);
      if (l.length <= w - 2) return [l];
      const indent = " ".repeat(Math.min(8, /^ */.exec(l)![0].length + 2));
      return [
        l.slice(0, w - 2),
        ...wrap(l.slice(w - 2), w - 2 - indent.length).map((x) => indent + x),
      ];
    });
    o.scroll = Math.min(o.scroll, Math.max(0, all.length - inner));
    const lines = all.slice(o.scroll, o.scroll + inner);
    const more = all.length > inner
      ? ` (${o.scroll + 1}-${Math.min(all.length, o.scroll + inner)} of ${all.length}, ↑↓)`
      : "";
    const hint = o.kind === "confirm"
      ? ""
      : o.kind === "apply" && this.#applying
      ? " running…"
      : " Esc closes";
    return box(`${o.title}${more}${hint}`, lines, { width: w, height: h }, {
      focused: true,
      paint: this.#o.paint,
    });
  }
}
