/** Errors that end a command with one clear line and a stable exit code. */

/** A failure the user can act on: printed as one line, exit code 1 unless given. */
export class FirestreamError extends Error {
  /** process exit code */
  readonly exitCode: number;
  /** optional hint printed after the message */
  readonly hint?: string;
  constructor(
    message: string,
    options: { exitCode?: number; hint?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "FirestreamError";
    this.exitCode = options.exitCode ?? 1;
    this.hint = options.hint;
  }
}

/** Bad configuration or flags: nothing has been changed. */
export class ConfigError extends FirestreamError {
  constructor(message: string, hint?: string) {
    super(message, { hint });
    this.name = "ConfigError";
  }
}

/** The run was interrupted by SIGINT/SIGTERM. */
export class InterruptedError extends FirestreamError {
  constructor(message = "interrupted") {
    super(message, { exitCode: 130 });
    this.name = "InterruptedError";
  }
}

/**
 * A step that failed part-way, saying what it left behind: either its own changes were undone, or
 * what remains (already recorded in the state), in words for the user.
 */
export class StepFailure extends FirestreamError {
  constructor(cause: unknown, readonly outcome: { undone: true } | { left: string }) {
    const base = cause instanceof FirestreamError ? cause : undefined;
    super(cause instanceof Error ? cause.message : String(cause), {
      cause,
      hint: base?.hint,
      exitCode: base?.exitCode,
    });
    this.name = "StepFailure";
  }
}
