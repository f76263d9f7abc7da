// Which runs the runs panel lists: one server page of the filtered list, kept current by the
// WebSocket's run_created / run_updated / status_change / run_deleted without a reload.
import { PAGE_SIZE, matchesFilter, NO_FILTER, type RunFilter } from "./runfilter";
import type { Run } from "./types";

export class RunList {
  filter: RunFilter = { ...NO_FILTER };
  offset = 0;
  /** Runs matching the filter on the server (all pages). */
  total = 0;
  /** Ids on the page shown, in the server's order (newest first). */
  ids: string[] = [];
  loaded = false;

  constructor(public limit = PAGE_SIZE) {}

  has(id: string): boolean {
    return this.ids.includes(id);
  }

  /** A page as the server answered it. */
  setPage(runs: readonly Pick<Run, "id">[], total: number, offset: number): void {
    this.ids = runs.map((r) => r.id);
    this.total = Math.max(total, this.ids.length + offset);
    this.offset = offset;
    this.loaded = true;
  }

  /** A new run is the newest: it goes on top of the first page when it matches; true when the list changed. */
  onCreated(run: Run): boolean {
    if (this.has(run.id) || !matchesFilter(run, this.filter)) return false;
    this.total++;
    if (this.offset !== 0) return true;
    this.ids.unshift(run.id);
    // the page keeps its size: the oldest row moves on to the next page, as the server would page it
    if (this.ids.length > this.limit) this.ids.pop();
    return true;
  }

  /** A listed run that no longer matches the filter (its status changed, a tag was removed) leaves the list. */
  onUpdated(run: Run): boolean {
    if (!this.has(run.id) || matchesFilter(run, this.filter)) return false;
    this.remove(run.id);
    return true;
  }

  onDeleted(id: string): boolean {
    if (!this.has(id)) return false;
    this.remove(id);
    return true;
  }

  private remove(id: string): void {
    this.ids = this.ids.filter((x) => x !== id);
    this.total = Math.max(0, this.total - 1);
  }
}
