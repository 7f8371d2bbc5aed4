/** Finds the real program behind a simulated one (the first on PATH outside test/sim/bin). */
export function realTool(name: string): string | undefined {
  const simBin = new URL("./bin", import.meta.url).pathname.replace(/\/$/, "");
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir || dir.replace(/\/$/, "") === simBin) continue;
    try {
      const path = `${dir}/${name}`;
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not here */ }
  }
  return undefined;
}
