/** Entry of the simulated host: `main.ts <tool> args…`, run through the shims in bin/. */
import { refuseUnmodelled } from "./modelled.ts";
import {
  heldFor,
  latencyFor,
  logCall,
  logCallEnd,
  parseArgs,
  type Parsed,
  readJson,
  SimExit,
  takeFault,
  update,
} from "./core.ts";
import { docker, dockerMutating } from "./docker.ts";
import { ip, ipMutating } from "./ip.ts";
import { k3d, k3dMutating } from "./k3d.ts";
import { kubectl, kubectlMutating, kubectlStreams } from "./kubectl.ts";
import { resolvectl, resolvectlMutating } from "./resolvectl.ts";
import { logs } from "./logs.ts";
import { portForward, watchObjects } from "./streaming.ts";
import { newWorld, type World } from "./world.ts";

function out(text: string, stream: "out" | "err"): void {
  if (!text) return;
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  const target = stream === "out" ? Deno.stdout : Deno.stderr;
  while (written < bytes.length) written += target.writeSync(bytes.subarray(written));
}

async function readStdin(): Promise<string> {
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of Deno.stdin.readable) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

function privileged(): boolean {
  return Deno.env.get("FIRESTREAM_SIM_SUDO") === "1" || Deno.env.get("FIRESTREAM_SIM_ROOT") === "1";
}

async function run(tool: string, argv: string[]): Promise<number> {
  let parsed: Parsed | undefined;
  let mutating = false;
  let command = tool;
  if (tool === "k3d" || tool === "kubectl" || tool === "docker") {
    try {
      parsed = parseArgs(tool, argv);
      refuseUnmodelled(tool, parsed);
    } catch (err) {
      logCall(tool, argv, false);
      throw err;
    }
    mutating = tool === "k3d"
      ? k3dMutating(parsed)
      : tool === "kubectl"
      ? kubectlMutating(parsed)
      : dockerMutating(parsed);
    command = [tool, parsed.path, ...parsed.args].filter(Boolean).join(" ");
  } else if (tool === "ip") {
    mutating = ipMutating(argv);
    command = ["ip", ...argv.filter((a) => !a.startsWith("-"))].join(" ");
  } else if (tool === "resolvectl") {
    mutating = resolvectlMutating(argv);
    command = ["resolvectl", ...argv].join(" ");
  } else if (tool === "sudo") {
    command = ["sudo", ...argv].join(" ");
  }
  logCall(tool, argv, mutating);
  const delay = latencyFor(command);
  if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  while (heldFor(command)) await new Promise((r) => setTimeout(r, 20));
  const fault = await takeFault(command);
  if (fault) {
    throw new SimExit(fault.exit, fault.stderr.endsWith("\n") ? fault.stderr : fault.stderr + "\n");
  }

  if (tool === "sudo") return await sudo(argv);
  if (tool === "kubectl" && parsed && kubectlStreams(parsed)) {
    if (parsed.path === "get") return await watchObjects(parsed);
    return parsed.path === "port-forward" ? await portForward(parsed) : await logs(parsed);
  }
  const readsStdin = parsed?.path === "apply" ||
    (parsed?.path === "create" && parsed.flags.filename?.includes("-"));
  const stdin = tool === "kubectl" && readsStdin ? await readStdin() : "";
  const stderr: string[] = [];
  const stdout = await update<World, string>("world.json", newWorld(), async (world) => {
    switch (tool) {
      case "k3d":
        return await k3d(world, parsed!, stderr);
      case "docker":
        return await docker(world, parsed!);
      case "kubectl":
        return await kubectl(world, parsed!, () => Promise.resolve(stdin));
      case "ip":
        return ip(world, argv, privileged());
      case "resolvectl":
        return resolvectl(world, argv, privileged());
      default:
        throw new SimExit(98, `sim: unknown tool ${tool}\n`);
    }
  });
  out(stdout, "out");
  out(stderr.map((l) => l + "\n").join(""), "err");
  return 0;
}

async function sudo(argv: string[]): Promise<number> {
  const args = [...argv];
  let nonInteractive = false;
  while (args[0]?.startsWith("-")) {
    const opt = args.shift()!;
    if (opt === "-n" || opt === "--non-interactive") nonInteractive = true;
    else if (opt === "--") break;
    else {throw new SimExit(
        1,
        `sudo: unrecognized option '${opt}'\nusage: sudo -h | -K | -k | -V\n`,
      );}
  }
  const world = readJson<World>("world.json", newWorld());
  if (!world.sudoOk) {
    throw new SimExit(
      1,
      nonInteractive
        ? "sudo: a password is required\n"
        : "sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper\n",
    );
  }
  if (args.length === 0) throw new SimExit(1, "usage: sudo -h | -K | -k | -V\n");
  if (args[0] === "true") return 0;
  if (args[0] === "sh" || args[0] === "bash") {
    throw new SimExit(
      99,
      "sim: refusing `sudo sh`: Firestream must never run a shell through sudo\n",
    );
  }
  const child = new Deno.Command(args[0], {
    args: args.slice(1),
    env: { FIRESTREAM_SIM_SUDO: "1" },
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  return (await child.status).code;
}

const [tool, ...argv] = Deno.args;
let code: number;
try {
  // update() saves only when the callback returns; a thrown SimExit leaves the world as it was
  code = await run(tool, argv);
} catch (err) {
  if (err instanceof SimExit) {
    out(err.stdout, "out");
    out(err.stderr, "err");
    code = err.code;
  } else {
    out(`sim: internal error in ${tool}: ${(err as Error).stack ?? err}\n`, "err");
    code = 99;
  }
}
logCallEnd();
Deno.exit(code);
