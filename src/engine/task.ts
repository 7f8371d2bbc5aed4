/** The contract of one step of a run: check, apply, rollback (DESIGN §4). */
import type { KeyDiff } from "../ui/plan.ts";
import type { LiveCache, Read } from "./snapshot.ts";

export type { KeyDiff };

/** What a run's context must offer the runner: the record it keeps and the live facts. */
export interface TaskContext<C> {
  /** the resource record; each task owns its {@link Task.slots} in it */
  record: object;
  live: LiveCache<C>;
  /** a line for the user (a step left as it is, and why) */
  notice?: (message: string) => void;
}

/** What a check found: nothing to do (no diffs), or what differs and why. */
export interface CheckResult {
  /** key-level differences between what is wanted and what is there; empty: nothing to do */
  diffs: KeyDiff[];
  /** how a plan shows the change @default "update" */
  action?: "create" | "update" | "replace" | "delete";
  note?: string;
  /** the change loses something that cannot be made again (a plan asks before it) */
  destructive?: boolean;
  /** nothing differs, and the record slot should say so: the runner writes this into `slots[0]` */
  record?: unknown;
}

/** A check that finds nothing to do. */
export const UP_TO_DATE: CheckResult = { diffs: [] };

/** One idempotent step. `C` is the run context, `U` the data its rollback needs. */
export interface Task<C, U = unknown> {
  /** stable id, recorded in journal and state */
  id: string;
  /** what the user sees in progress output */
  title: string;
  /** ids of tasks that must finish first; absent means every task listed before this one */
  needs?: string[];
  /** whether this step is part of the run at all @default always */
  enabled?: (ctx: C) => boolean;
  /** the live facts `check` reads; the runner gathers them (concurrently) before it checks */
  reads?: (ctx: C) => Read<C, unknown>[];
  /**
   * paths in the record this step owns ("registry", "tls.secret"): the runner keeps their values
   * from before `apply` and puts them back after `rollback`
   */
  slots?: string[];
  /** pure: compares the wanted config, the record and the refreshed facts; writes and prints nothing */
  check: (ctx: C) => CheckResult;
  /** make it so; returns what rollback needs to revert exactly this (null: nothing to revert) */
  apply: (ctx: C) => Promise<U>;
  /** revert exactly what apply did, nothing more */
  rollback: (ctx: C, undo: U) => Promise<void>;
  /** revert an apply that started and never returned (the process died inside it) */
  abandon?: (ctx: C) => Promise<void>;
  /**
   * once this step is done there is no way back (a deleted cluster): a later failure leaves every
   * step as it is, and the run is finished by running it again (or `rollback`) instead of undone
   */
  pointOfNoReturn?: boolean;
}

/** Any task over context C, whatever its undo data. */
// deno-lint-ignore no-explicit-any
export type AnyTask<C> = Task<C, any>;

export { StepFailure } from "../errors.ts";
