/** Firestream: state-managed local Kubernetes clusters on k3d. */
import { versionLine } from "./src/version.ts";

if (import.meta.main) {
  const args = Deno.args;
  // answered before anything else loads: start-up time is a feature
  if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
    console.log(versionLine());
    Deno.exit(0);
  }
  const { main } = await import("./src/cli/main.ts");
  Deno.exit(await main(args));
}
