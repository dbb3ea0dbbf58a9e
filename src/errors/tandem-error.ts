/**
 * Every error tandem reports on purpose carries an exit code and, where it can, the place to fix:
 * the file and line, and one sentence saying what to do.
 */
export const ExitCode = {
  ok: 0,
  phaseFailed: 1,
  usage: 2,
  refused: 3,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface ErrorPlace {
  file?: string;
  line?: number;
  column?: number;
}

export class TandemError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly place: ErrorPlace;
  readonly fix: string | undefined;

  constructor(message: string, options: { exitCode: ExitCodeValue; place?: ErrorPlace; fix?: string; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TandemError';
    this.exitCode = options.exitCode;
    this.place = options.place ?? {};
    this.fix = options.fix;
  }

  /** "file:line:column" when known, for the start of a message. */
  get where(): string {
    const { file, line, column } = this.place;
    if (!file) return '';
    return [file, line, line !== undefined ? column : undefined].filter((part) => part !== undefined).join(':');
  }
}

/** Bad input: a malformed file, an unknown flag, a config error. Nothing was run. */
export class UsageError extends TandemError {
  constructor(message: string, place?: ErrorPlace, fix?: string) {
    super(message, { exitCode: ExitCode.usage, ...(place ? { place } : {}), ...(fix ? { fix } : {}) });
    this.name = 'UsageError';
  }
}

/** A guard refused the command: wrong phase order, lock held, checksum drift. Nothing was run. */
export class RefusedError extends TandemError {
  constructor(message: string, fix?: string, place?: ErrorPlace) {
    super(message, { exitCode: ExitCode.refused, ...(place ? { place } : {}), ...(fix ? { fix } : {}) });
    this.name = 'RefusedError';
  }
}

/** A statement failed while a phase ran. The ledger records where. */
export class PhaseFailedError extends TandemError {
  constructor(message: string, options: { place?: ErrorPlace; fix?: string; cause?: unknown }) {
    super(message, { exitCode: ExitCode.phaseFailed, ...options });
    this.name = 'PhaseFailedError';
  }
}
