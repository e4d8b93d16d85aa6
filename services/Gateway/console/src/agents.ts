import { ApiError, get } from "./api";
import { dollars, facts, h, json, problemBox, replace, section } from "./dom";
import { rate, readTotals, sum, summary, totalsTable, type AgentDayTotals } from "./totals";

interface FireTime { utc: string; local: string }
interface ScheduleView { cron: string; timeZone: string; misfire: string; paused: boolean; pausedBy: string | null; nextFires: FireTime[] }
interface ToolView {
  name: string; description: string | null; needsApproval: boolean; readOnly: boolean; maxCallsPerRun: number | null; allowedHosts: string[];
  sideEffects: boolean; sandboxed: boolean; subAgent: string | null; settings: Record<string, string>; unavailable: string | null;
}
interface TriggerView {
  name: string; kind: string; tenantId: string; goal: string; schedule: ScheduleView | null; path: string | null; scheme: string | null;
  secretName: string | null; exchange: string | null; routingKey: string | null;
}
interface AgentView {
  name: string; description: string; instructions: string; strategy: string; sourceFile: string;
  model: { provider: string | null; name: string | null; temperature: number | null; fallbacks: string[] };
  tools: ToolView[];
  limits: { maxSteps: number; maxTokens: number; maxCost: number | null; deadline: string; maxReplans: number | null };
  approval: { timeout: string; onTimeout: string };
  sandbox: {
    wallTime: string | null; cpuTime: string | null; memoryBytes: number | null; processes: number | null; outputBytes: number | null;
    workspaceBytes: number | null; outputs: string[]; inputs: string[]; allowedHosts: string[];
  };
  triggers: TriggerView[];
  notify: { webhook: string | null; slack: boolean; email: string[] };
}

/// How far back "recent" pass rates and costs look.
const recentDays = 7;

function recentWindow(): [Date, Date] {
  const until = new Date();
  return [new Date(until.getTime() - recentDays * 86_400_000), until];
}

/// The agents: what each is for, its tools and triggers, and how its recent runs went.
export function showAgents(main: HTMLElement): () => void {
  const message = h("div");
  const body = h("tbody", {}, h("tr", {}, h("td", { colspan: 7, class: "empty" }, "Reading the agents…")));
  replace(main,
    h("div", { class: "heading" }, h("h1", {}, "Agents")),
    message,
    h("div", { class: "scroll" },
      h("table", { class: "agents" },
        h("caption", {}, `The agents this Gateway runs; runs, success rate and cost over the last ${recentDays} days.`),
        h("thead", {}, h("tr", {}, ["Agent", "What it does", "Tools", "Triggers", "Runs", "Success rate", "Cost"].map(c => h("th", { scope: "col" }, c)))),
        body)));

  let stopped = false;
  void (async () => {
    try {
      const [agents, totals] = await Promise.all([get<{ agents: AgentView[] }>("/agents"), readTotals(...recentWindow()).catch(() => null)]);
      if (stopped) return;
      if (!totals) replace(message, problemBox("The runs' totals could not be read: the recent columns are empty."));
      replace(body, agents.agents.map(agent => {
        const recent = totals ? sum(totals.days.filter(d => d.agent === agent.name)) : null;
        return h("tr", { "data-agent": agent.name },
          h("td", {}, h("a", { href: `#/agents/${encodeURIComponent(agent.name)}` }, agent.name)),
          h("td", {}, agent.description),
          h("td", {}, agent.tools.map(t => t.name).join(", ") || "none"),
          h("td", {}, agent.triggers.map(t => `${t.name} (${t.kind.toLowerCase()})`).join(", ") || "API only"),
          h("td", { class: "number" }, recent ? recent.runs : ""),
          h("td", { class: "number" }, recent ? rate(recent.completed, recent.finished) : ""),
          h("td", { class: "number" }, recent ? dollars(recent.cost) || "$0.0000" : ""));
      }));
    } catch (error) {
      replace(message, problemBox(`The agents could not be read: ${(error as Error).message}`));
      replace(body);
    }
  })();
  return () => { stopped = true; };
}

/// One agent: its definition, tools and their permissions, triggers and their next fire times,
/// limits, and its runs of the last days.
export function showAgent(main: HTMLElement, name: string): () => void {
  replace(main, h("p", {}, h("a", { href: "#/agents" }, "← All agents")), h("p", { class: "empty" }, `Reading ${name}…`));
  let stopped = false;
  void (async () => {
    let agent: AgentView;
    try {
      agent = await get<AgentView>(`/agents/${encodeURIComponent(name)}`);
    } catch (error) {
      if (!stopped) replace(main, h("p", {}, h("a", { href: "#/agents" }, "← All agents")),
        problemBox(error instanceof ApiError && error.status === 404 ? error.message : `This agent could not be read: ${(error as Error).message}`));
      return;
    }
    const recent = h("section", { class: "card", "aria-labelledby": "recent-title" }, h("h2", { id: "recent-title" }, `Last ${recentDays} days`), h("p", { class: "empty" }, "Counting…"));
    if (stopped) return;
    replace(main, h("p", {}, h("a", { href: "#/agents" }, "← All agents")), agentPage(agent, recent));
    try {
      const totals = await readTotals(...recentWindow(), agent.name);
      if (!stopped) replace(recent, h("h2", { id: "recent-title" }, `Last ${recentDays} days`), recentRuns(agent.name, totals.days));
    } catch (error) {
      if (!stopped) replace(recent, h("h2", { id: "recent-title" }, `Last ${recentDays} days`), problemBox(`The totals could not be read: ${(error as Error).message}`));
    }
  })();
  return () => { stopped = true; };
}

function recentRuns(agent: string, days: AgentDayTotals[]): HTMLElement[] {
  return [h("p", { class: "summary" }, summary(sum(days))), totalsTable(days, `${agent}'s runs per day (UTC), with their success rate and cost.`)];
}

function agentPage(a: AgentView, recent: HTMLElement): HTMLElement {
  const model = [a.model.provider ?? "default provider", a.model.name ?? "its default model"].join(" / ");
  const sandboxed = a.tools.some(t => t.sandboxed);
  return h("div", {},
    h("div", { class: "heading" }, h("h1", {}, a.name)),
    h("p", { class: "text" }, a.description),
    recent,
    section("definition-title", "Definition",
      facts(
        ["Model", model + (a.model.temperature !== null ? `, temperature ${a.model.temperature}` : "") + (a.model.fallbacks.length ? `; falls back on ${a.model.fallbacks.join(", ")}` : "")],
        ["Strategy", a.strategy === "PlanAndExecute" ? "plan and execute" : "ReAct (one model call per step)"],
        ["File", a.sourceFile]),
      h("h3", {}, "Instructions"),
      h("pre", { "aria-label": "Instructions" }, a.instructions)),
    section("tools-title", `Tools and permissions (${a.tools.length})`, toolsTable(a)),
    section("triggers-title", "Triggers",
      a.triggers.length === 0 ? h("p", { class: "empty" }, "None for your tenant: runs start from the API (or as a sub-agent).") : null,
      a.triggers.length ? h("ul", { class: "triggers" }, a.triggers.map(trigger)) : null),
    section("limits-title", "Limits",
      facts(
        ["Steps", `${a.limits.maxSteps} at most`],
        ["Tokens", `${a.limits.maxTokens.toLocaleString()} at most`],
        ["Cost", a.limits.maxCost !== null ? `${dollars(a.limits.maxCost)} at most` : "no limit"],
        ["Time", `${span(a.limits.deadline)} per run`],
        ["Re-plans", a.limits.maxReplans !== null ? `${a.limits.maxReplans} at most` : "none (ReAct runs never re-plan)"],
        ["Approval", `a call waits ${span(a.approval.timeout)} for a person, then is ${a.approval.onTimeout === "Escalate" ? "escalated" : "denied"}`])),
    sandboxed ? section("sandbox-title", "Sandbox",
      facts(
        ["Wall time", a.sandbox.wallTime ? span(a.sandbox.wallTime) : "service default"],
        ["CPU time", a.sandbox.cpuTime ? span(a.sandbox.cpuTime) : "service default"],
        ["Memory", bytes(a.sandbox.memoryBytes)],
        ["Processes", a.sandbox.processes !== null ? String(a.sandbox.processes) : "service default"],
        ["Network", a.sandbox.allowedHosts.length ? `only ${a.sandbox.allowedHosts.join(", ")}` : "none"],
        ["Kept as artifacts", a.sandbox.outputs.join(", ") || "nothing"],
        ["Read-only inputs", a.sandbox.inputs.join(", ") || "none"])) : null,
    section("notify-title", "Notifications",
      facts(
        ["Webhook", a.notify.webhook ? `${a.notify.webhook}/… (the rest of the address is not shown)` : "none"],
        ["Slack", a.notify.slack ? "an incoming webhook is set (its address is a secret)" : "none"],
        ["Email", a.notify.email.join(", ") || "none"])));
}

function toolsTable(a: AgentView): HTMLElement {
  if (a.tools.length === 0) return h("p", { class: "empty" }, "No tools: the agent answers from the model alone.");
  return h("div", { class: "scroll" },
    h("table", { class: "tools" },
      h("caption", { class: "visually-hidden" }, `The tools ${a.name} may call and the policy each call is held to`),
      h("thead", {}, h("tr", {}, ["Tool", "Approval", "Calls per run", "Changes things", "Reaches", "Settings"].map(c => h("th", { scope: "col" }, c)))),
      h("tbody", {}, a.tools.map(t => h("tr", { "data-tool": t.name },
        h("th", { scope: "row" }, h("code", {}, t.name),
          t.description ? h("p", { class: "meta" }, t.description) : null,
          t.subAgent ? h("p", { class: "meta" }, "Starts a run of ", h("a", { href: `#/agents/${encodeURIComponent(t.subAgent)}` }, t.subAgent)) : null,
          t.unavailable ? h("p", { class: "notice" }, `Not offered on this host: ${t.unavailable}`) : null),
        h("td", {}, t.needsApproval ? h("span", { class: "waiting" }, "Needs approval") : "Not needed"),
        h("td", { class: "number" }, t.maxCallsPerRun ?? "no limit"),
        h("td", {}, t.readOnly ? "read only" : t.sideEffects ? "yes" : "no"),
        h("td", {}, t.sandboxed ? `the sandbox: ${a.sandbox.allowedHosts.length ? a.sandbox.allowedHosts.join(", ") : "no network"}`
          : t.allowedHosts.length ? t.allowedHosts.join(", ") : "its own allow-list"),
        h("td", {}, Object.keys(t.settings).length ? h("pre", { "aria-label": `Settings of ${t.name}` }, json(t.settings)) : ""))))));
}

function trigger(t: TriggerView): HTMLElement {
  const detail = t.kind === "Schedule" && t.schedule
    ? [h("p", {}, `Schedule “${t.schedule.cron}” in ${t.schedule.timeZone}, misfire ${t.schedule.misfire}. `,
        t.schedule.paused ? h("span", { class: "waiting" }, `Paused${t.schedule.pausedBy ? ` by ${t.schedule.pausedBy}` : ""}: its due times are skipped.`) : "Active."),
      h("p", { class: "meta", id: `next-${t.name}` }, t.schedule.paused ? "Next due times (skipped while paused):" : "Next fire times:"),
      t.schedule.nextFires.length
        ? h("ol", { class: "fires", "aria-labelledby": `next-${t.name}` }, t.schedule.nextFires.map(f => h("li", {}, h("time", { datetime: f.utc }, zoned(f)))))
        : h("p", { class: "empty" }, "Never: the expression has no future occurrence.")]
    : t.kind === "Webhook"
      ? [h("p", {}, `Webhook: POST ${t.path}, ${t.scheme} signature, secret configured as Triggers:Secrets:${t.secretName}.`)]
      : [h("p", {}, `Event on exchange ${t.exchange}, routing key ${t.routingKey}.`)];
  return h("li", { class: "trigger", "data-trigger": t.name },
    h("h3", {}, t.name, h("span", { class: "status" }, t.kind)),
    ...detail,
    h("p", { class: "meta" }, `Goal: ${t.goal}`));
}

/// A due time as the schedule's zone reads it, with the reader's own clock beside it.
function zoned(f: FireTime): string {
  const local = f.local.replace("T", " ").replace(/(:\d\d)(\.\d+)?([+-]\d\d:\d\d|Z)$/, "$1 $3");
  return `${local} (${new Date(f.utc).toLocaleString()} your time)`;
}

/// .NET writes a TimeSpan as "[d.]hh:mm:ss[.fffffff]".
export function span(text: string): string {
  const match = text.match(/^(?:(\d+)\.)?(\d+):(\d+):(\d+)(?:\.\d+)?$/);
  if (!match) return text;
  const [days, hours, minutes, seconds] = match.slice(1).map(n => Number(n ?? 0));
  const parts = [[days, "d"], [hours, "h"], [minutes, "min"], [seconds, "s"]].filter(([n]) => n !== 0).map(([n, unit]) => `${n} ${unit}`);
  return parts.join(" ") || "0 s";
}

function bytes(value: number | null): string {
  if (value === null) return "service default";
  return value >= 1 << 20 ? `${(value / (1 << 20)).toFixed(0)} MiB` : `${value.toLocaleString()} bytes`;
}
