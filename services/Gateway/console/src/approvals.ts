import { followEvents, get, post, type ApprovalView, type Caller, type RunEvent, type RunView } from "./api";
import { h, json, problemBox, replace, when } from "./dom";

// draft: the comment being typed, kept across the re-renders that live events cause.
interface Item extends ApprovalView { goal: string | null; thought: string | null; problem?: string; draft?: string }

/// The approvals inbox: calls waiting for a person, with their arguments and the run's goal and
/// reasoning; approve or deny with a comment. Decided calls stay on the page with who decided, as
/// the API recorded it. Without the approve role there is nothing to press (the API refuses it too).
export function showApprovals(main: HTMLElement, caller: Caller): () => void {
  const mayDecide = caller.roles.includes("approve");
  let items: Item[] = [];
  const list = h("div", { class: "approvals", "aria-live": "polite" });
  const message = h("div");
  const live = h("span", { class: "live", role: "status" }, "Connecting…");
  replace(main,
    h("div", { class: "heading" }, h("h1", {}, "Approvals"), live),
    mayDecide ? null : h("p", { class: "notice" }, "You can see the calls waiting here but not decide them: your credential lacks the approve role."),
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

  function render(): void {
    const pending = items.filter(i => i.approved === null);
    replace(list,
      pending.length === 0 ? h("p", { class: "empty" }, "No call is waiting for approval.") : null,
      items.map(item => card(item, mayDecide, decide)));
  }

  // As on a run's page: a request in flight when the stream opened shows up at the next read.
  const reread = setInterval(() => void load(), 3000);
  const stop = followEvents("", () => void load(), apply, connected => replace(live, connected ? "Live" : "Reconnecting…"));
  return () => { clearInterval(reread); stop(); };
}

function card(item: Item, mayDecide: boolean, decide: (item: Item, approved: boolean, comment: string) => Promise<void>): HTMLElement {
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
    item.problem ? problemBox(`The decision was not taken: ${item.problem}`) : null);
}
