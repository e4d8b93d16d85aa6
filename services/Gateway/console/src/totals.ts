import { get, type TokenUsage } from "./api";
import { dollars, h } from "./dom";

export interface AgentDayTotals {
  agent: string; day: string; runs: number; completed: number; failed: number; escalated: number; cancelled: number; running: number;
  successRate: number | null; usage: TokenUsage; cost: number;
}
export interface RunTotals { tenantId: string; since: string; until: string; days: AgentDayTotals[] }

/// What a set of day lines adds up to (one agent's, or a whole window's).
export interface Sum { runs: number; completed: number; finished: number; tokens: number; cost: number }

export function readTotals(since: Date, until: Date, agent?: string, tenant?: string): Promise<RunTotals> {
  const query = new URLSearchParams({ since: since.toISOString(), until: until.toISOString() });
  if (agent) query.set("agent", agent);
  if (tenant) query.set("tenant", tenant);
  return get<RunTotals>(`/runs/totals?${query}`);
}

export function sum(days: AgentDayTotals[]): Sum {
  return days.reduce((s, d) => ({
    runs: s.runs + d.runs,
    completed: s.completed + d.completed,
    finished: s.finished + d.runs - d.running,
    tokens: s.tokens + d.usage.inputTokens + d.usage.outputTokens,
    cost: s.cost + d.cost,
  }), { runs: 0, completed: 0, finished: 0, tokens: 0, cost: 0 });
}

/// Completed over the runs no longer running, as the API counts it; a dash while none has ended.
export function rate(completed: number, finished: number): string {
  return finished === 0 ? "–" : `${Math.round((completed / finished) * 100)}%`;
}

export function summary(s: Sum): string {
  return `${s.runs} run${s.runs === 1 ? "" : "s"} · ${rate(s.completed, s.finished)} succeeded · ${s.tokens.toLocaleString()} tokens · ${dollars(s.cost) || "$0.0000"}`;
}

/// The per-agent per-day table; caption says what it counts.
export function totalsTable(days: AgentDayTotals[], caption: string): HTMLElement {
  return h("div", { class: "scroll" },
    h("table", { class: "totals" },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, ["Day (UTC)", "Agent", "Runs", "Completed", "Failed", "Escalated", "Cancelled", "Running", "Success rate", "Tokens", "Cost"].map(c => h("th", { scope: "col" }, c)))),
      h("tbody", {}, days.length === 0
        ? h("tr", {}, h("td", { colspan: 11, class: "empty" }, "No runs in this window."))
        : days.map(d => h("tr", { "data-day": d.day, "data-agent": d.agent },
          h("td", {}, d.day),
          h("td", {}, h("a", { href: `#/agents/${encodeURIComponent(d.agent)}` }, d.agent)),
          [d.runs, d.completed, d.failed, d.escalated, d.cancelled, d.running].map(n => h("td", { class: "number" }, n)),
          h("td", { class: "number" }, rate(d.completed, d.runs - d.running)),
          h("td", { class: "number" }, (d.usage.inputTokens + d.usage.outputTokens).toLocaleString()),
          h("td", { class: "number" }, dollars(d.cost) || "$0.0000"))))));
}
