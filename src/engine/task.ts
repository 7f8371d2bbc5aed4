/** The contract of one step of a run: check, apply, rollback (DESIGN §4). */

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
  /** read-only: true when the machine is already as desired */
  check: (ctx: C) => Promise<boolean>;
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
