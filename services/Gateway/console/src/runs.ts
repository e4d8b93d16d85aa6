import { followEvents, get, type Caller, type RunEvent, type RunSummary } from "./api";
import { dollars, h, problemBox, replace, statusBadge, tokens, when } from "./dom";
import { readTotals, sum, summary, totalsTable } from "./totals";

const statuses = ["Running", "Completed", "Failed", "Escalated", "Cancelled"];
const triggers = ["Api", "Webhook", "Schedule", "Event", "SubAgent"];
const periods: [string, number | null][] = [["Any time", null], ["Last hour", 1], ["Last 24 hours", 24], ["Last 7 days", 24 * 7]];
// The totals of "Any time" cover this many days: the API counts a bounded window.
const anyTimeDays = 30;
const ends: Record<string, string> = { RunCompleted: "Completed", RunFailed: "Failed", RunEscalated: "Escalated", RunCancelled: "Cancelled" };

interface Filters { agent: string; status: string; trigger: string; hours: string; tenant: string }

/// The runs list: filters, a table, and runs that start or end while it is open, as they do. The
/// admin role may look at another tenant's runs (the API refuses the others anyway).
export function showRuns(main: HTMLElement, caller: Caller): () => void {
  const filters: Filters = { agent: "", status: "", trigger: "", hours: "", tenant: "" };
  let runs: RunSummary[] = [];
  const body = h("tbody");
  const message = h("div", { "aria-live": "polite" });
  const live = h("span", { class: "live", role: "status" }, "Connecting…");
  let totalsShown = "";
  const totals = h("section", { class: "card", "aria-labelledby": "totals-title" }, h("h2", { id: "totals-title" }, "Totals"));

  const select = (name: keyof Filters, label: string, options: [string, string][]) => {
    const element = h("select", { id: `filter-${name}`, name }, options.map(([text, value]) => h("option", { value }, text))) as HTMLSelectElement;
    element.addEventListener("change", () => { filters[name] = element.value; void load(); });
    return [h("label", { for: `filter-${name}` }, label), element];
  };
  const agent = h("input", { id: "filter-agent", name: "agent", type: "search", placeholder: "any agent" }) as HTMLInputElement;
  agent.addEventListener("change", () => { filters.agent = agent.value.trim(); void load(); });
  const operator = caller.roles.includes("admin");
  const tenant = h("input", { id: "filter-tenant", name: "tenant", type: "search", placeholder: caller.tenantId, "aria-describedby": "filter-tenant-help" }) as HTMLInputElement;
  tenant.addEventListener("change", () => {
    filters.tenant = tenant.value.trim() === caller.tenantId ? "" : tenant.value.trim();
    runs = [];
    follow();
  });

  replace(main,
    h("div", { class: "heading" }, h("h1", {}, "Runs"), live),
    h("form", { class: "filters", role: "search", "aria-label": "Filter runs", onsubmit: (e: Event) => e.preventDefault() },
      h("div", {}, h("label", { for: "filter-agent" }, "Agent"), agent),
      h("div", {}, ...select("status", "Status", [["Any status", ""], ...statuses.map((s): [string, string] => [s, s])])),
      h("div", {}, ...select("trigger", "Trigger", [["Any trigger", ""], ...triggers.map((t): [string, string] => [t, t])])),
      h("div", {}, ...select("hours", "Started", periods.map(([text, hours]): [string, string] => [text, hours === null ? "" : String(hours)]))),
      operator ? h("div", {}, h("label", { for: "filter-tenant" }, "Tenant"), tenant,
        h("span", { id: "filter-tenant-help", class: "hint" }, `Yours is ${caller.tenantId}. As an admin you may list another's runs and totals; their pages open with that tenant's credentials only.`)) : null),
    message,
    totals,
    h("div", { class: "scroll" },
      h("table", { class: "runs" },
        h("caption", { class: "visually-hidden" }, "Runs, newest first"),
        h("thead", {}, h("tr", {}, ["Started", "Agent", "Goal", "Trigger", "Status", "Steps", "Tokens", "Cost"].map(c => h("th", { scope: "col" }, c)))),
        body)));

  const matches = (run: RunSummary) =>
    (!filters.agent || run.agent === filters.agent) && (!filters.status || run.status === filters.status) && (!filters.trigger || run.trigger === filters.trigger);

  const render = () => {
    replace(body, runs.length === 0
      ? h("tr", {}, h("td", { colspan: 8, class: "empty" }, "No runs match these filters yet."))
      : runs.map(run => h("tr", { "data-run": run.runId },
        h("td", {}, when(run.startedAt)),
        h("td", {}, run.agent ?? ""),
        // A run's page reads the caller's own tenant's runs only (GET /runs/{id}).
        h("td", {}, filters.tenant ? run.goal || run.runId : h("a", { href: `#/runs/${run.runId}` }, run.goal || run.runId)),
        h("td", {}, run.trigger ?? ""),
        h("td", {}, statusBadge(run.status)),
        h("td", { class: "number" }, run.steps ?? ""),
        h("td", { class: "number" }, tokens(run.usage)),
        h("td", { class: "number" }, dollars(run.totalCost)))));
  };

  async function load(): Promise<void> {
    const query = new URLSearchParams();
    if (filters.agent) query.set("agent", filters.agent);
    if (filters.status) query.set("status", filters.status);
    if (filters.trigger) query.set("trigger", filters.trigger);
    if (filters.hours) query.set("since", new Date(Date.now() - Number(filters.hours) * 3_600_000).toISOString());
    if (filters.tenant) query.set("tenant", filters.tenant);
    try {
      runs = (await get<{ runs: RunSummary[] }>(`/runs?${query}`)).runs;
      replace(message);
    } catch (error) {
      replace(message, problemBox(`The runs could not be read: ${(error as Error).message}`));
    }
    render();
    await loadTotals();
  }

  /// Totals per agent per day over the "Started" window (the agent filter applies; status and trigger do not).
  async function loadTotals(): Promise<void> {
    const until = new Date();
    const hours = filters.hours ? Number(filters.hours) : anyTimeDays * 24;
    const window = filters.hours ? periods.find(([, n]) => String(n) === filters.hours)![0].toLowerCase() : `the last ${anyTimeDays} days`;
    const what = `${filters.agent ? `${filters.agent}'s runs` : "Runs"}${filters.tenant ? ` of tenant ${filters.tenant}` : ""} started in ${window}, per agent and day (UTC); the status and trigger filters do not apply.`;
    try {
      const counted = await readTotals(new Date(until.getTime() - hours * 3_600_000), until, filters.agent || undefined, filters.tenant || undefined);
      // Re-read every few seconds: redrawn only when it changed, so that focus in the table stays put.
      const shown = JSON.stringify([what, counted.days]);
      if (shown === totalsShown) return;
      totalsShown = shown;
      replace(totals, h("h2", { id: "totals-title" }, "Totals"),
        h("p", { class: "summary", "aria-label": "Totals of the window" }, summary(sum(counted.days))),
        totalsTable(counted.days, what));
    } catch (error) {
      totalsShown = "";
      replace(totals, h("h2", { id: "totals-title" }, "Totals"), problemBox(`The totals could not be read: ${(error as Error).message}`));
    }
  }

  const apply = (event: RunEvent) => {
    const data = event.data;
    const index = runs.findIndex(r => r.runId === data.runId);
    if (event.type === "GoalReceived" && index < 0) {
      const run: RunSummary = { runId: data.runId, agent: data.agent, goal: data.goal, status: "Running", trigger: data.trigger, startedAt: new Date().toISOString(), endedAt: null, steps: null, usage: null, totalCost: null };
      if (matches(run)) runs.unshift(run);
    } else if (index >= 0 && (event.type in ends || event.type === "RunResumed")) {
      const run = runs[index];
      run.status = ends[event.type] ?? "Running";
      if (event.type in ends) Object.assign(run, { steps: data.steps, usage: data.usage, totalCost: data.totalCost, endedAt: new Date().toISOString() });
      if (!matches(run)) runs.splice(index, 1);
    } else return;
    render();
  };

  // As on a run's page: a run that started while the stream opened shows up at the next read.
  const reread = setInterval(() => void load(), 5000);
  // The events of the tenant shown: followed again when an admin picks another.
  let stop = () => {};
  const follow = () => {
    stop();
    replace(live, "Connecting…");
    stop = followEvents(filters.tenant ? `?${new URLSearchParams({ tenant: filters.tenant })}` : "", load, apply, connected => replace(live, connected ? "Live" : "Reconnecting…"));
  };
  follow();
  return () => { clearInterval(reread); stop(); };
}
