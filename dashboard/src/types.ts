// Shapes of docs/API.md (the wire contract).
export type RunStatus = "running" | "completed" | "failed" | "interrupted" | "cancelled";

export interface Run {
  id: string;
  name: string;
  status: RunStatus;
  config: Record<string, unknown>;
  tags: string[];
  notes: string;
  start_time: string | null;
  end_time: string | null;
  created_at: string;
  updated_at: string;
  total_steps: number | null;
  last_step: number | null;
  progress: number | null;
  /** Running, but no trainer write for --stale-after seconds (absent on older servers). */
  stale?: boolean;
  /** Last trainer write (ISO-8601). */
  last_seen?: string | null;
  /** Every host/rank that reported to the run, sorted by rank, host. */
  hosts?: RunHost[];
}

export interface RunHost {
  host: string;
  rank: number;
  last_seen?: string | null;
}

export interface Series {
  steps: number[];
  values: number[];
  times: number[];
  total: number;
  downsampled: boolean;
}

export interface MetricsReply {
  run_id: string;
  series: Record<string, Series>;
}

export interface Checkpoint {
  id: string;
  run_id: string;
  filepath: string;
  step: number;
  metrics: Record<string, number>;
  metadata: Record<string, unknown>;
  is_best: boolean;
  created_at: string;
}

export interface GpuSample {
  index: number;
  name: string;
  utilization: number;
  memory_used: number;
  memory_total: number;
  temperature?: number;
  power?: number;
}

export interface SystemSample {
  timestamp: number;
  cpu_percent: number;
  memory_percent: number;
  memory_used?: number;
  memory_total?: number;
  process_rss?: number;
  gpus?: GpuSample[];
}

/** A sample a remote trainer posted for its run, tagged with where it was measured. */
export interface HostSample extends SystemSample {
  host: string;
  rank: number;
}

export interface TmonEvent {
  id: number;
  run_id: string | null;
  timestamp: string;
  type: string;
  message: string;
  data?: unknown;
}

export interface LivePoint {
  step: number;
  timestamp?: number;
  metrics: Record<string, number>;
}

export interface MetricUpdate {
  type: "metric_update";
  run_id: string;
  step: number;
  metrics: Record<string, number>;
  timestamp?: number;
  points?: LivePoint[];
  dropped?: number;
}

export interface LayerStats {
  mean?: number;
  std?: number;
  min?: number;
  max?: number;
  norm?: number;
  histogram?: { counts: number[]; min: number; max: number };
  [k: string]: unknown;
}

export interface LayerEntry {
  name: string;
  activations?: LayerStats;
  gradients?: LayerStats;
  parameters?: LayerStats;
}

export interface LayerSnapshot {
  run_id: string;
  step: number;
  timestamp?: number;
  layers: LayerEntry[];
}

export interface Heatmap {
  stat: string;
  steps: number[];
  layers: string[];
  values: (number | null)[][];
}

export type ServerMessage =
  | MetricUpdate
  | { type: "status_change"; run_id: string; old_status: RunStatus; new_status: RunStatus }
  | { type: "checkpoint_saved"; run_id: string; checkpoint_id: string; metrics?: Record<string, number>; checkpoint?: Checkpoint }
  | { type: "run_created" | "run_updated"; run_id: string; run: Run }
  | { type: "run_deleted"; run_id: string }
  | { type: "best_changed"; run_id: string; checkpoint_id: string }
  | { type: "checkpoint_deleted"; run_id: string; checkpoint_id: string }
  | { type: "layer_update"; run_id: string; step: number }
  | { type: "command"; run_id: string; command: unknown }
  | { type: "event"; event: TmonEvent }
  | ({ type: "system_update" } & SystemSample)
  | { type: "system"; run_id: string; sample: HostSample }
  | { type: "run_stale"; run_id: string; stale: boolean; last_seen: string | null }
  | { type: "subscribed" | "unsubscribed"; run_id: string }
  | { type: "pong" }
  | { type: "error"; message: string };
