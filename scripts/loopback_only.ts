/** Commands run in a fresh network namespace that has only its loopback, brought up first. */

/** `argv` wrapped so that it runs in a new network namespace with `lo` up (Linux, `unshare -n`). */
export function loopbackOnly(argv: string[]): string[] {
  return ["unshare", "-n", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", ...argv];
}
