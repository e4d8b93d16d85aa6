import { followEvents, get, post, type ApprovalView, type Caller, type RunEvent, type RunView } from "./api";
import { h, json, problemBox, replace, when } from "./dom";

// draft: the comment being typed, kept across the re-renders that live events cause.
interface Item extends ApprovalView { goal: string | null; thought: string | null; problem?: string; draft?: string; assigneeDraft?: string }

/// The approvals inbox: calls waiting for a person, with their arguments and the run's goal and
/// reasoning; approve or deny with a comment. Decided calls stay on the page with who decided, as
/// the API recorded it. Each call can be assigned to a person and the list filtered by assignee; each
/// shows how long it has waited of the agent's approval timeout. Without the approve role there is
/// nothing to press (the API refuses it too).
export function showApprovals(main: HTMLElement, caller: Caller): () => void {
  const mayDecide = caller.roles.includes("approve");
  let items: Item[] = [];
  let filter = "";
  const list = h("div", { class: "approvals", "aria-live": "polite" });
  const message = h("div");
  const live = h("span", { class: "live", role: "status" }, "Connecting…");
  const assignees = h("select", { id: "filter-assignee", name: "assignee" }) as HTMLSelectElement;
  assignees.addEventListener("change", () => { filter = assignees.value; render(); });
  replace(main,
    h("div", { class: "heading" }, h("h1", {}, "Approvals"), live),
    mayDecide ? null : h("p", { class: "notice" }, "You can see the calls waiting here but not decide or assign them: your credential lacks the approve role."),
    h("form", { class: "filters", role: "search", "aria-label": "Filter approvals", onsubmit: (e: Event) => e.preventDefault() },
      h("div", {}, h("label", { for: "filter-assignee" }, "Assigned to"), assignees)),
    message, list);

  const load = async () => {
    try {
      const pending = (await get<{ approvals: ApprovalView[] }>("/approvals")).approvals;
      const runs = new Map<string, RunView | null>();
      for (const runId of new Set(pending.map(a => a.runId))) runs.set(runId, await get<RunView>(`/runs/${runId}`).catch(() => null));
      const decided = items.filter(i => i.approved !== null);
      items = [...pending.map(a => {
        const run = runs.get(a.runId);
        return { ...a, goal: run?.goal ?? null, thought: run?.steps.find(s => s.step === a.step)?.thought ?? null };
      }), ...decided.filter(d => !pending.some(p => p.callId === d.callId && p.runId === d.runId))];
      replace(message);
    } catch (error) {
      replace(message, problemBox(`The calls waiting for approval could not be read: ${(error as Error).message}`));
    }
    render();
  };

  const apply = (event: RunEvent) => {
    const d = event.data;
    if (event.type === "ApprovalRequested") {
      for (const call of d.calls) {
        if (!items.some(i => i.runId === d.runId && i.callId === call.callId)) {
          items.push({ runId: d.runId, agent: d.agent, step: d.step, callId: call.callId, tool: call.tool, arguments: call.arguments, requestedAt: new Date().toISOString(), expiresAt: d.expiresAt, approved: null, decidedBy: null, comment: null, decidedAt: null, goal: d.goal, thought: d.thought });
        }
      }
    } else if (event.type === "ApprovalAssigned") {
      const item = items.find(i => i.runId === d.runId && i.callId === d.callId);
      if (!item || item.approved !== null || (item.assignedAt && item.assignedAt > d.assignedAt)) return;
      Object.assign(item, { assignee: d.assignee, assignedBy: d.assignedBy, assignedAt: d.assignedAt });
    } else if (event.type === "ApprovalDecided") {
      const item = items.find(i => i.runId === d.runId && i.callId === d.callId);
      if (!item || item.approved !== null) return;
      Object.assign(item, { approved: d.approved, decidedBy: d.decidedBy, comment: d.comment, decidedAt: new Date().toISOString() });
    } else return;
    render();
  };

  const decide = async (item: Item, approved: boolean, comment: string) => {
    try {
      await post(`/runs/${item.runId}/approvals/${encodeURIComponent(item.callId)}`, { approved, comment: comment || null });
      item.problem = undefined;
    } catch (error) {
      item.problem = (error as Error).message;
    }
    render();
  };

  const assign = async (item: Item, assignee: string | null) => {
    const path = `/runs/${item.runId}/approvals/${encodeURIComponent(item.callId)}/assign`;
    try {
      await (assignee === null ? post(path, undefined, "DELETE") : post(path, { assignee }));
      item.problem = undefined;
      item.assigneeDraft = undefined;
    } catch (error) {
      item.problem = (error as Error).message;
    }
    render();
  };

  const shown = (item: Item) =>
    filter === "" || (filter === "mine" ? item.assignee === caller.name : filter === "none" ? !item.assignee : `=${item.assignee}` === filter);

  function render(): void {
    // The filter's options: everyone, mine, nobody, and each person something is assigned to ("=name").
    const people = [...new Set(items.map(i => i.assignee).filter((a): a is string => !!a))].sort();
    if (filter.startsWith("=") && !people.includes(filter.slice(1))) people.push(filter.slice(1));
    replace(assignees,
      h("option", { value: "" }, "Anyone or nobody"),
      h("option", { value: "mine" }, `Me (${caller.name})`),
      h("option", { value: "none" }, "Nobody (unassigned)"),
      people.map(p => h("option", { value: `=${p}` }, p)));
    assignees.value = filter;
    const pending = items.filter(i => i.approved === null);
    const visible = items.filter(shown);
    replace(list,
      pending.length === 0 ? h("p", { class: "empty" }, "No call is waiting for approval.")
        : visible.length === 0 ? h("p", { class: "empty" }, "No call matches this filter.") : null,
      visible.map(item => card(item, mayDecide, caller, decide, assign)));
  }

  // As on a run's page: a request in flight when the stream opened shows up at the next read.
  const reread = setInterval(() => void load(), 3000);
  const stop = followEvents("", () => void load(), apply, connected => replace(live, connected ? "Live" : "Reconnecting…"));
  return () => { clearInterval(reread); stop(); };
}

function card(item: Item, mayDecide: boolean, caller: Caller, decide: (item: Item, approved: boolean, comment: string) => Promise<void>, assign: (item: Item, assignee: string | null) => Promise<void>): HTMLElement {
  const id = `${item.runId}-${item.callId}`;
  const title = `${item.agent} wants to call ${item.tool}`;
  const comment = h("textarea", { id: `comment-${id}`, name: "comment", rows: 2, oninput: () => { item.draft = comment.value; } }) as HTMLTextAreaElement;
  comment.value = item.draft ?? "";
  return h("article", { class: "card approval", "aria-label": title, "data-call": item.callId },
    h("h2", {}, item.agent, " wants to call ", h("code", {}, item.tool)),
    h("p", { class: "meta" }, `Step ${item.step} · requested ${when(item.requestedAt)} · decided by its timeout policy at ${when(item.expiresAt)} · `,
      h("a", { href: `#/runs/${item.runId}` }, "Open the run")),
    item.goal ? h("p", { class: "text" }, h("strong", {}, "Goal: "), item.goal) : null,
    item.thought ? h("p", { class: "text" }, h("strong", {}, "Why the agent calls it: "), item.thought) : null,
    item.approved === null ? waited(item) : null,
    item.approved === null ? assignment(item, mayDecide, caller, assign) : null,
    h("pre", { "aria-label": `Arguments of ${item.tool}` }, json(item.arguments)),
    item.approved !== null
      ? h("p", { class: item.approved ? "approved" : "denied", role: "status" },
        `${item.approved ? "Approved" : "Denied"} by ${item.decidedBy}`, item.comment ? `: “${item.comment}”` : "")
      : mayDecide
        ? h("form", { class: "decision", onsubmit: (e: Event) => e.preventDefault() },
          h("label", { for: `comment-${id}` }, "Comment (optional; a denial's comment is shown to the agent)"),
          comment,
          h("div", { class: "buttons" },
            h("button", { type: "button", onclick: () => void decide(item, true, comment.value.trim()) }, "Approve"),
            h("button", { type: "button", class: "danger", onclick: () => void decide(item, false, comment.value.trim()) }, "Deny")))
        : null,
    item.problem ? problemBox(`Nothing was done: ${item.problem}`) : null);
}

/// How long the call has waited against the agent's approval timeout (requested to expires).
function waited(item: Item): HTMLElement {
  const start = Date.parse(item.requestedAt), end = Date.parse(item.expiresAt);
  const elapsed = Math.max(0, Date.now() - start), timeout = Math.max(1, end - start);
  // Memory notes the request a moment after the saga sets the deadline: the timeout is rounded, not cut.
  const text = `Waited ${span(elapsed)} of ${span(Math.round(timeout / 60_000) * 60_000 || timeout)}`;
  return h("p", { class: "waited meta" }, h("span", {}, text),
    h("meter", { min: 0, max: timeout, value: Math.min(elapsed, timeout), low: timeout * 0.5, high: timeout * 0.8, optimum: 0, "aria-label": `${text} before its timeout policy decides` }));
}

function span(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return `${Math.floor(ms / 1000)} s`;
  if (minutes < 120) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function assignment(item: Item, mayAssign: boolean, caller: Caller, assign: (item: Item, assignee: string | null) => Promise<void>): HTMLElement {
  const id = `${item.runId}-${item.callId}`;
  const who = h("p", { class: "meta assigned" }, item.assignee ? `Assigned to ${item.assignee} by ${item.assignedBy}` : "Assigned to nobody");
  if (!mayAssign) return who;
  const input = h("input", { id: `assignee-${id}`, name: "assignee", type: "text", autocomplete: "off", oninput: () => { item.assigneeDraft = input.value; } }) as HTMLInputElement;
  input.value = item.assigneeDraft ?? "";
  return h("div", {}, who,
    h("form", { class: "assignment", onsubmit: (e: Event) => { e.preventDefault(); if (input.value.trim()) void assign(item, input.value.trim()); } },
      h("div", {}, h("label", { for: `assignee-${id}` }, "Assign to"), input),
      h("button", { type: "submit" }, "Assign"),
      item.assignee !== caller.name ? h("button", { type: "button", onclick: () => void assign(item, caller.name) }, "Assign to me") : null,
      item.assignee ? h("button", { type: "button", class: "danger", onclick: () => void assign(item, null) }, "Unassign") : null));
}
