/** One replica's state as read: its lag in ms, or null when it cannot be known (replication stopped, unreachable). */
export interface Reading {
  replica: string;
  lagMs: number | null;
  /** Why the lag is unknown, for the notice. */
  why?: string;
}

/** Where the lags come from: one per dialect. */
export interface LagSource {
  read(): Promise<Reading[]>;
  close(): Promise<void>;
}
