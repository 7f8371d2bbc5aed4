/** Refresh: the live facts the steps of a run read, gathered once and concurrently. */

/**
 * One live fact the steps read (Terraform's refresh): gathered before any check, concurrently with
 * the others, and kept until a step changes the machine.
 */
export interface Read<C, T> {
  /** names the fact; reads with the same key are the same fact */
  key: string;
  fetch: (ctx: C) => Promise<T>;
}

/** The answer of a read: its value, or why it could not be had. */
type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * The snapshot of live facts of one run: each read is made once (concurrently with the others)
 * and made again by the next refresh whenever a step changes the machine. Until then a step reads
 * the answer its own refresh got: what another step, running meanwhile, changes never takes an
 * answer away from it.
 */
export class LiveCache<C> {
  #values = new Map<string, Promise<unknown>>();
  #settled = new Map<string, Settled>();
  /** answered before the machine last changed: the next refresh makes them again */
  #stale = new Set<string>();

  /** The cached answer for `key`, computing it once. */
  #get<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let v = this.#values.get(key) as Promise<T> | undefined;
    if (!v) {
      const p: Promise<T> = fn();
      v = p;
      this.#values.set(key, p);
      p.then(
        (value) => {
          if (this.#values.get(key) !== p) return;
          this.#settled.set(key, { ok: true, value });
          this.#stale.delete(key);
        },
        (error) => {
          if (this.#values.get(key) !== p) return;
          this.#settled.set(key, { ok: false, error });
          this.#stale.delete(key);
          this.#values.delete(key);
        },
      );
    }
    return v;
  }

  /**
   * Makes every read not yet answered, all at once; resolves when all have answered (or failed).
   * A read forgotten meanwhile (a concurrent step changed the machine) is made again.
   */
  async refresh(ctx: C, reads: Read<C, unknown>[]): Promise<void> {
    const unique = [...new Map(reads.map((r) => [r.key, r])).values()];
    while (true) {
      const todo = unique.filter((r) => !this.#settled.has(r.key) || this.#stale.has(r.key));
      if (!todo.length) return;
      await Promise.all(todo.map((r) => this.#get(r.key, () => r.fetch(ctx)).catch(() => {})));
    }
  }

  /**
   * Starts a read that needs no context, before the run has one: its answer is there for the
   * refresh that follows, which does not make it again.
   */
  begin(read: { key: string; fetch: () => Promise<unknown> }): void {
    this.#get(read.key, read.fetch);
  }

  /**
   * The answer of a read made by {@link refresh}: the latest one, even when a step has changed the
   * machine since (a step that needs to see a change refreshes again); throws the read's own error
   * when it failed.
   */
  now<T>(read: Read<C, T>): T {
    const s = this.#settled.get(read.key);
    if (!s) throw new Error(`internal: ${read.key} was read before the refresh`);
    if (!s.ok) throw s.error;
    return s.value as T;
  }

  /** The machine changed: every answer is made again by the next refresh that names it. */
  clear(): void {
    this.#values.clear();
    for (const key of this.#settled.keys()) this.#stale.add(key);
  }
}
