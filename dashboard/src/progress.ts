// Progress as the runs table shows it. A run may go past its planned steps (last_step 9999 of
// total_steps 100): then the bar is full and the text is the step count, never "9999%".
import { formatStep } from "./format";

export interface ProgressView {
  /** Bar width in [0, 1]. */
  fraction: number;
  label: string;
  /** Past its planned steps. */
  over: boolean;
}

export function progressView(lastStep: number | null | undefined, totalSteps: number | null | undefined, progress?: number | null): ProgressView | null {
  if (totalSteps != null && totalSteps > 0 && lastStep != null && Number.isFinite(lastStep)) {
    if (lastStep > totalSteps) return { fraction: 1, label: `${formatStep(lastStep)} steps`, over: true };
    const f = clamp01(lastStep / totalSteps);
    // floor: 100% only once the last planned step is reached
    return { fraction: f, label: `${Math.floor(f * 100)}%`, over: false };
  }
  if (progress != null && Number.isFinite(progress)) {
    const f = clamp01(progress);
    return { fraction: f, label: `${Math.floor(f * 100)}%`, over: false };
  }
  return null;
}

/** The run detail's step line: "420 / 1000 (42%)", "9999 / 100 (past plan)". */
export function stepLine(lastStep: number | null | undefined, totalSteps: number | null | undefined): string {
  if (lastStep == null) return totalSteps ? `-- / ${totalSteps}` : "--";
  if (!totalSteps || totalSteps <= 0) return String(lastStep);
  const p = progressView(lastStep, totalSteps);
  return `${lastStep} / ${totalSteps} (${p?.over ? "past plan" : p?.label})`;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
