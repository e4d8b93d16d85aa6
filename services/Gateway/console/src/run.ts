import { followEvents, get, post, type ApprovalView, type Caller, type OnlineEvaluation, type RunChild, type RunDefinition, type RunEvent, type RunLineage, type RunView, type StepView } from "./api";
import { dollars, h, json, problemBox, replace, statusBadge, tokens, when } from "./dom";
import { ms, Timeline } from "./timeline";

const ended: Record<string, string> = { RunCompleted: "Completed", RunFailed: "Failed", RunEscalated: "Escalated", RunCancelled: "Cancelled" };

/// A run's page: its steps as they happen, its answer, and cancel. The page reads the run once the
/// event stream is open, then applies each event to what it read (an event may come before or
/// after Memory records it, so each one is merged by step and call, never appended twice).
export function showRun(main: HTMLElement, runId: string, caller: Caller): () => void {
  let run: RunView | null = null;
  const live = h("span", { class: "live", role: "status" }, "Connecting…");
  const view = h("div", { "aria-live": "polite" });
  const message = h("div");
  const timeline = new Timeline(runId);
  replace(main, h("p", {}, h("a", { href: "#/runs" }, "← All runs")), message, view);

  const step = (number: number): StepView => {
    let found = run!.steps.find(s => s.step === number);
    if (!found) {
      found = { step: number, thought: null, toolCalls: [], outcomes: [], finalAnswer: null, verdict: null, verdictReason: null, usage: null, model: null, cacheHit: false, cost: null, guidance: null, contextUsage: null, contextCost: null };
      run!.steps.push(found);
      run!.steps.sort((a, b) => a.step - b.step);
    }
    return found;
  };

  const apply = (event: RunEvent) => {
    if (!run) return;
    const d = event.data;
    switch (event.type) {
      case "StepPlanned":
        Object.assign(step(d.step), { thought: d.thought, toolCalls: d.toolCalls, finalAnswer: d.finalAnswer, usage: d.usage, model: d.model, cacheHit: d.cacheHit, cost: d.cost,
          contextUsage: d.contextUsage ?? null, contextCost: d.contextUsage ? d.contextCost : null });
        break;
      case "ToolResult": step(d.step).outcomes = d.outcomes; break;
      case "GoalEvaluated": Object.assign(step(d.step), { verdict: d.verdict, verdictReason: d.reason }); break;
      case "ApprovalRequested":
        run.approvals ??= [];
        for (const call of d.calls) {
          if (!run.approvals.some(a => a.callId === call.callId)) {
            run.approvals.push({ runId: d.runId, agent: d.agent, step: d.step, callId: call.callId, tool: call.tool, arguments: call.arguments, requestedAt: new Date().toISOString(), expiresAt: d.expiresAt, approved: null, decidedBy: null, comment: null, decidedAt: null });
          }
        }
        break;
      case "ApprovalDecided": {
        const approval = run.approvals?.find(a => a.callId === d.callId);
        if (approval && approval.approved === null) Object.assign(approval, { approved: d.approved, decidedBy: d.decidedBy, comment: d.comment, decidedAt: new Date().toISOString() });
        break;
      }
      case "RunResumed": run.status = "Running"; step(d.step - 1).guidance = d.guidance; break;
      // Memory keeps the first grades of a run; so does the page.
      case "RunGraded": run.onlineEvaluation ??= { score: d.score, grades: d.grades, gradedAt: d.gradedAt, sequence: d.sequence }; break;
      default:
        if (!(event.type in ended)) return;
        Object.assign(run, { status: ended[event.type], usage: d.usage, totalCost: d.totalCost, answer: d.answer ?? run.answer, reason: d.reason ?? run.reason });
        // The last spans end just after the run's end is published.
        setTimeout(() => void timeline.load().then(render), 1000);
    }
    render();
  };

  const load = async () => {
    try {
      run = await get<RunView>(`/runs/${runId}`);
      replace(message);
      render();
      await timeline.load();
      render();
    } catch (error) {
      replace(message, problemBox(`This run could not be read: ${(error as Error).message}`));
    }
  };

  // What the person has typed as the reason survives the page's redraws.
  let cancelDraft = "";
  const cancel = async (form: HTMLFormElement) => {
    const reason = (form.elements.namedItem("reason") as HTMLInputElement).value.trim();
    try {
      await post(`/runs/${runId}/cancel`, { reason: reason || `Cancelled from the console by ${caller.name}.` });
      replace(form, h("p", { role: "status" }, "Cancel requested: the run stops at its next step."));
    } catch (error) {
      form.append(problemBox(`The run could not be cancelled: ${(error as Error).message}`));
    }
  };

  function render(): void {
    if (!run) return;
    const r = run;
    // A step whose calls wait for approval is recorded only once they are decided: show them from the approvals.
    for (const a of r.approvals ?? []) {
      const waiting = step(a.step);
      if (!waiting.toolCalls.some(c => c.callId === a.callId)) waiting.toolCalls.push({ callId: a.callId, tool: a.tool, arguments: a.arguments });
    }
    const open = r.status === "Running" || r.status === "Escalated";
    replace(view,
      h("div", { class: "heading" }, h("h1", {}, `${r.agent ?? "Run"}: `, h("span", { class: "goal" }, r.goal ?? "")), open ? live : null),
      h("dl", { class: "facts" },
        fact("Status", statusBadge(r.status)), fact("Run", r.runId), fact("Trigger", r.trigger ?? "unknown"),
        fact("Tokens", tokens(r.usage) || "counted when it ends"), fact("Cost", dollars(r.totalCost) || "counted when it ends"),
        r.extractionUsage ? fact("Learning after the end", `${tokens(r.extractionUsage)} · ${dollars(r.extractionCost)}`) : null,
        r.definition ? fact("Definition", definition(r.definition)) : null,
        r.lineage ? fact(r.lineage.kind === "Fork" ? "Forked from" : "Replay of", lineage(r.lineage)) : null,
        r.children?.length ? fact("Forks and replays", children(r.children)) : null),
      r.answer ? h("section", { class: "card answer", "aria-labelledby": "answer-title" }, h("h2", { id: "answer-title" }, "Final answer"), h("p", { class: "text" }, r.answer)) : null,
      r.reason ? h("section", { class: "card reason", "aria-labelledby": "reason-title" }, h("h2", { id: "reason-title" }, r.status === "Completed" ? "Note" : "Why it ended"), h("p", { class: "text" }, r.reason)) : null,
      r.onlineEvaluation ? onlineEvaluation(r.onlineEvaluation) : null,
      open && caller.roles.includes("submit")
        ? h("form", { class: "cancel", onsubmit: (e: Event) => { e.preventDefault(); void cancel(e.currentTarget as HTMLFormElement); } },
          h("label", { for: "cancel-reason" }, "Reason to cancel (optional)"),
          h("input", { id: "cancel-reason", name: "reason", type: "text", value: cancelDraft, oninput: (e: Event) => { cancelDraft = (e.target as HTMLInputElement).value; } }),
          h("button", { type: "submit", class: "danger" }, "Cancel run"))
        : null,
      h("h2", {}, `Steps (${r.steps.length})`),
      r.steps.length === 0 ? h("p", { class: "empty" }, "No step yet: the agent is planning its first.") : null,
      h("ol", { class: "steps" }, r.steps.map(s => stepItem(s, r.approvals ?? [], caller, timeline.planning(s.step)))),
      timeline.element);
  }

  // An event published just before the stream opened may reach Memory only after the first read:
  // while the run is open it is read again now and then, so that nothing in flight is lost.
  const reread = setInterval(() => { if (run && (run.status === "Running" || run.status === "Escalated")) void load(); }, 3000);
  const stop = followEvents(`?run=${runId}`, () => void load(), apply, connected => replace(live, connected ? "Live" : "Reconnecting…"));
  return () => { clearInterval(reread); stop(); };
}

/// The grades the Evaluator gave the run after it ended (its agent samples runs for online evaluation).
function onlineEvaluation(e: OnlineEvaluation): HTMLElement {
  const score = e.score === null ? "no score: no grader could grade this run" : e.score.toFixed(2);
  return h("section", { class: "card online-evaluation", "aria-labelledby": "online-evaluation-title" },
    h("h2", { id: "online-evaluation-title" }, "Online evaluation"),
    h("p", {}, h("strong", {}, "Score: "), score,
      h("span", { class: "meta" }, ` · graded ${when(e.gradedAt)}${e.sequence > 0 ? ` · the agent's scored run ${e.sequence}` : ""}`)),
    h("div", { class: "scroll" }, h("table", {},
      h("caption", { class: "visually-hidden" }, "Each grader's verdict on this run"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Grader"), h("th", { scope: "col", class: "number" }, "Score"), h("th", { scope: "col" }, "Verdict"), h("th", { scope: "col" }, "Reason"))),
      h("tbody", {}, e.grades.map(g => h("tr", { "data-grader": g.grader },
        h("th", { scope: "row" }, g.grader),
        h("td", { class: "number" }, g.notGraded ? "–" : g.score.toFixed(2)),
        h("td", {}, g.notGraded
          ? h("span", { class: "verdict verdict-not-graded" }, "Not graded")
          : h("span", { class: `verdict ${g.passed ? "verdict-achieved" : "verdict-failed"}` }, g.passed ? "Passed" : "Failed")),
        h("td", { class: "text" }, g.reason)))))),
    e.grades.some(g => g.notGraded) ? h("p", { class: "meta" }, "A grader that could not grade is left out of the score.") : null);
}

/// As `agentry show` says it: the pinned hash, and how it stands against the agent's current definition.
function definition(d: RunDefinition): HTMLElement {
  const short = (hash: string) => hash.slice(0, 12);
  const against = d.currentHash === null ? "the agent is no longer defined"
    : d.movingToHash ? `moving to ${short(d.movingToHash)} at the next step`
    : d.differsFromCurrent ? `differs from the current ${short(d.currentHash)}; agentry move-definition moves it there`
    : "the current one";
  return h("span", {}, d.agentHash ? h("code", { title: d.agentHash }, short(d.agentHash)) : "none (started before runs pinned their definition)", ` · ${against}`);
}

function lineage(l: RunLineage): HTMLElement {
  return h("span", {}, h("a", { href: `#/runs/${l.parentRunId}` }, `run ${l.parentRunId}`),
    l.kind === "Fork" ? ` at step ${l.fromStep}` : "",
    l.model ? ` · model ${l.model}` : "",
    l.guidance ? ` · guidance from ${l.guidance.by}: ${l.guidance.text}` : "");
}

function children(list: RunChild[]): HTMLElement {
  return h("ul", { class: "children" }, list.map(c => h("li", {},
    h("a", { href: `#/runs/${c.runId}` }, c.kind === "Fork" ? `fork at step ${c.fromStep}` : "replay"), ` · ${c.runId}`)));
}

function fact(term: string, value: Node | string): HTMLElement[] {
  return [h("dt", {}, term), h("dd", {}, value)];
}

export function stepItem(s: StepView, approvals: ApprovalView[], caller: Caller, planningMs: number | null = null): HTMLElement {
  const details = [
    s.model ? `model ${s.model}${s.cacheHit ? " (cached)" : ""}` : null,
    planningMs !== null ? `planned in ${ms(planningMs)}` : null,
    s.usage ? tokens(s.usage) : null,
    s.cost !== null ? dollars(s.cost) : null,
    s.contextUsage ? `summary of earlier steps ${tokens(s.contextUsage)}${s.contextCost !== null ? `, ${dollars(s.contextCost)}` : ""}` : null,
  ].filter(Boolean).join(" · ");
  return h("li", { class: "card step", "data-step": s.step },
    h("h3", {}, `Step ${s.step}`, s.verdict ? h("span", { class: `verdict verdict-${s.verdict.toLowerCase()}` }, s.verdict) : null),
    details ? h("p", { class: "meta" }, details) : null,
    s.thought ? h("p", { class: "text thought" }, h("strong", {}, "Thought: "), s.thought) : null,
    s.toolCalls.map(call => {
      const outcome = s.outcomes.find(o => o.callId === call.callId);
      const approval = approvals.find(a => a.callId === call.callId);
      return h("div", { class: "call", "data-call": call.callId },
        h("p", {}, h("strong", {}, "Calls "), h("code", {}, call.tool)),
        h("pre", { "aria-label": `Arguments of ${call.tool}` }, json(call.arguments)),
        approval ? approvalLine(approval, caller) : null,
        outcome
          ? h("div", { class: outcome.errorKind === "None" ? "outcome" : "outcome failed" },
            h("p", { class: "meta" }, outcome.errorKind === "None" ? "Result" : `Failed (${outcome.errorKind})`, ` · ${duration(outcome.duration)}`),
            h("pre", { "aria-label": `Result of ${call.tool}` }, outcome.error ?? outcome.output))
          : null);
    }),
    s.finalAnswer ? h("p", { class: "text" }, h("strong", {}, "Answer: "), s.finalAnswer) : null,
    s.verdictReason ? h("p", { class: "meta" }, `Verdict: ${s.verdictReason}`) : null,
    s.guidance ? h("p", { class: "text" }, h("strong", {}, `Guidance from ${s.guidance.by}: `), s.guidance.text) : null);
}

function approvalLine(a: ApprovalView, caller: Caller): HTMLElement {
  if (a.approved === null) {
    return h("p", { class: "waiting" }, `Waiting for approval until ${when(a.expiresAt)}. `,
      caller.roles.includes("approve") ? h("a", { href: "#/approvals" }, "Decide in Approvals") : "A person with the approve role decides it.");
  }
  return h("p", { class: a.approved ? "approved" : "denied" }, `${a.approved ? "Approved" : "Denied"} by ${a.decidedBy}`, a.comment ? `: “${a.comment}”` : "", a.decidedAt ? ` (${when(a.decidedAt)})` : "");
}

/// .NET writes a TimeSpan as "00:00:01.2345678".
function duration(text: string): string {
  const [hours, minutes, seconds] = text.split(":").map(Number);
  const total = hours * 3600 + minutes * 60 + seconds;
  if (Number.isNaN(total)) return text;
  return total < 1 ? `${Math.round(total * 1000)} ms` : `${total.toFixed(2)} s`;
}
