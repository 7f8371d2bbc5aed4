/** What the cluster layer needs from a command: its config, where its state is, and a reporter. */
import type { LoadedConfig } from "../config/load.ts";
import type { StateStore } from "../state/store.ts";
import type { Output } from "../ui/output.ts";

/** A command's working set as the layers below the CLI see it. */
export interface Workspace {
  loaded: LoadedConfig;
  stateDir: string;
  store: StateStore;
  /** "firestream cluster create --agents 3", recorded in the lock and journal */
  command: string;
  /** progress, warnings and data for the user */
  out: Output;
}
