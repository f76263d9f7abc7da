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
  private created = new Map<string, string>();
  loaded = false;

  constructor(public limit = PAGE_SIZE) {}

  has(id: string): boolean {
    return this.ids.includes(id);
  }

  /** A page as the server answered it. */
  setPage(runs: readonly Pick<Run, "id" | "created_at">[], total: number, offset: number): void {
    this.ids = runs.map((r) => r.id);
    this.created = new Map(runs.map((r) => [r.id, r.created_at]));
    this.total = Math.max(total, this.ids.length + offset);
    this.offset = offset;
    this.loaded = true;
  }

  /**
   * A run_created that matches the filter. On the first page it goes in at its place (newest first) and
   * counts; one that belongs to a later page, or any while a later page is shown, changes nothing shown
   * (it may be a late message for a run the page load already counted). True when the caller should
   * re-read the page for the server's order and total.
   */
  onCreated(run: Pick<Run, "id" | "created_at" | "status" | "tags" | "name">): boolean {
    if (this.has(run.id) || !matchesFilter(run, this.filter)) return false;
    if (this.offset !== 0) return true;
    let at = 0;
    while (at < this.ids.length && newerFirst(this.created.get(this.ids[at]) ?? "", this.ids[at], run.created_at, run.id) < 0) at++;
    if (at >= this.limit) return true;
    this.ids.splice(at, 0, run.id);
    this.created.set(run.id, run.created_at);
    this.total++;
    // the page keeps its size: the oldest row moves on to the next page, as the server would page it
    if (this.ids.length > this.limit) this.created.delete(this.ids.pop()!);
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
    this.created.delete(id);
    this.total = Math.max(0, this.total - 1);
  }
}

/** created_desc with ties by id descending (run_listing.hpp): negative when a comes first. */
function newerFirst(aCreated: string, aId: string, bCreated: string, bId: string): number {
  if (aCreated !== bCreated) return aCreated > bCreated ? -1 : 1;
  return aId > bId ? -1 : aId < bId ? 1 : 0;
}
