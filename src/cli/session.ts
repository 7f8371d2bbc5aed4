/** What every command starts from: flags, loaded config, state directory, output. */
import {
  DEFAULT_CONFIG_FILE,
  loadConfig,
  type LoadedConfig,
  type Override,
} from "../config/load.ts";
import { StateStore } from "../state/store.ts";
import { currentUser } from "../tools/process.ts";
import { configureLog, type LogLevel } from "../ui/log.ts";
import { Output } from "../ui/output.ts";
import { VERSION } from "../version.ts";

/** The global flags of the root command. */
export interface GlobalFlags {
  config?: string;
  stateDir?: string;
  /** `--profile NAME` */
  profile?: string;
  yes?: boolean;
  json?: boolean;
  /** `-o json|yaml` */
  output?: "json" | "yaml";
  quiet?: boolean;
  /** false with `--no-headers` (commands with a table) */
  headers?: boolean;
  verbose?: boolean;
  logLevel?: string;
  color?: boolean;
}

/** A command's working set. */
export interface Session {
  flags: GlobalFlags;
  out: Output;
  loaded: LoadedConfig;
  stateDir: string;
  store: StateStore;
  /** "firestream cluster create --agents 3", recorded in the lock and journal */
  command: string;
}

/** Output for commands that need no config. */
export function outputFor(flags: GlobalFlags): Output {
  return new Output({
    json: flags.json,
    format: flags.output,
    quiet: flags.quiet,
    noHeaders: flags.headers === false,
    noColor: flags.color === false,
  });
}

/** Loads the config (with overrides), resolves the state dir and sets up logging. */
export async function openSession(
  flags: GlobalFlags,
  options: {
    overrides?: Override[];
    configFile?: string;
    /** say nothing about the built-in defaults (the command does not use the config's cluster) */
    quietDefaults?: boolean;
  } = {},
): Promise<Session> {
  const level = flags.verbose ? "debug" : (flags.logLevel as LogLevel | undefined);
  configureLog({ level });
  const loaded = await loadConfig({
    file: options.configFile ?? flags.config,
    overrides: options.overrides,
    profile: flags.profile,
  });
  const stateDir = resolveStateDir(flags, loaded.projectDir);
  configureLog({ file: `${stateDir}/firestream.log` });
  const out = outputFor(flags);
  if (!loaded.file && !options.quietDefaults) {
    out.progress(
      `no ${DEFAULT_CONFIG_FILE} in ${loaded.projectDir}: using the built-in defaults ` +
        `(cluster ${loaded.config.cluster.k3d.name}); \`firestream init\` writes one`,
    );
  }
  const command = ["firestream", ...Deno.args].join(" ");
  return {
    flags,
    out,
    loaded,
    stateDir,
    store: new StateStore(stateDir, {
      writer: `${currentUser()}@${Deno.hostname()} firestream ${VERSION}`,
      command,
    }),
    command,
  };
}

/** --state-dir, then FIRESTREAM_STATE_DIR, then `.firestream` beside the config. */
export function resolveStateDir(flags: GlobalFlags, projectDir: string): string {
  const dir = flags.stateDir ?? Deno.env.get("FIRESTREAM_STATE_DIR") ?? `${projectDir}/.firestream`;
  return dir.startsWith("/") ? dir : `${Deno.cwd()}/${dir}`;
}
