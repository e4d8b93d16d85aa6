import { followEvents, get, post, type Caller, type RunEvent, type RunSummary, type RunView } from "./api";
import { h, problemBox, replace, when } from "./dom";
import { stepItem } from "./run";

// Drafts are kept across the re-renders that live events cause.
interface Item { summary: RunSummary; run: RunView | null; problem?: string; guidance?: string; resolution?: string; sent?: string }

const leaves = ["RunResumed", "RunCompleted", "RunFailed", "RunCancelled"];

/// Escalated runs waiting for a person: the summary the Notifier sent them, the whole transcript,
/// and resume with guidance or close with a resolution. A run resumed, closed or cancelled (here or
/// elsewhere) leaves the list as its event arrives. Without the approve role nothing can be pressed.
export function showEscalations(main: HTMLElement, caller: Caller): () => void {
  const mayAct = caller.roles.includes("approve");
  let items: Item[] = [];
  const list = h("div", { class: "escalations", "aria-live": "polite" });
  const message = h("div");
  const live = h("span", { class: "live", role: "status" }, "Connecting…");
  replace(main,
    h("div", { class: "heading" }, h("h1", {}, "Escalations"), live),
    mayAct ? null : h("p", { class: "notice" }, "You can see the runs waiting for a person here but not resume or close them: your credential lacks the approve role."),
    message, list);

  const load = async () => {
    try {
      const escalated = (await get<{ runs: RunSummary[] }>("/runs?status=Escalated&limit=200")).runs;
      const next: Item[] = [];
      for (const summary of escalated) {
        const known = items.find(i => i.summary.runId === summary.runId);
        const run = await get<RunView>(`/runs/${summary.runId}`).catch(() => known?.run ?? null);
        // A run resumed since the list was read is no longer waiting.
        if (run && run.status !== "Escalated") continue;
        next.push({ ...known, summary, run });
      }
      items = next;
      replace(message);
    } catch (error) {
      replace(message, problemBox(`The escalated runs could not be read: ${(error as Error).message}`));
    }
    render();
  };

  const apply = (event: RunEvent) => {
    const d = event.data;
    if (event.type === "RunEscalated") { void load(); return; }
    const index = items.findIndex(i => i.summary.runId === d.runId);
    if (index < 0) return;
    if (leaves.includes(event.type)) items.splice(index, 1);
    else if (event.type === "EscalationSummarized" && items[index].run) items[index].run!.escalationSummary = d.summary;
    else return;
    render();
  };

  const act = async (item: Item, action: "resume" | "close", text: string) => {
    try {
      await post(`/runs/${item.summary.runId}/${action}`, action === "resume" ? { guidance: text } : { resolution: text });
      item.problem = undefined;
      item.sent = action === "resume" ? "Resumed: the run goes on with your guidance." : "Closed: the run ends with your resolution.";
    } catch (error) {
      item.problem = (error as Error).message;
    }
    render();
  };

  function render(): void {
    replace(list,
      items.length === 0 ? h("p", { class: "empty" }, "No run is waiting for a person.") : null,
      items.map(item => card(item, mayAct, caller, act)));
  }

  const reread = setInterval(() => void load(), 5000);
  const stop = followEvents("", () => void load(), apply, connected => replace(live, connected ? "Live" : "Reconnecting…"));
  return () => { clearInterval(reread); stop(); };
}

function card(item: Item, mayAct: boolean, caller: Caller, act: (item: Item, action: "resume" | "close", text: string) => Promise<void>): HTMLElement {
  const { summary, run } = item;
  const id = summary.runId;
  const title = `${summary.agent ?? "A run"} needs a person`;
  const field = (name: "guidance" | "resolution", label: string, hint: string) => {
    const input = h("textarea", { id: `${name}-${id}`, name, rows: 3, "aria-describedby": `${name}-hint-${id}`, oninput: () => { item[name] = input.value; } }) as HTMLTextAreaElement;
    input.value = item[name] ?? "";
    return [h("label", { for: `${name}-${id}` }, label), h("p", { id: `${name}-hint-${id}`, class: "hint" }, hint), input];
  };
  const guidance = field("guidance", "Guidance", "What the agent should do now; the run goes on with it.");
  const resolution = field("resolution", "Resolution", "What you did or decided; the run ends with it as its answer.");
  const value = (fields: HTMLElement[]) => (fields[2] as HTMLTextAreaElement).value.trim();
  return h("article", { class: "card escalation", "aria-label": title, "data-run": id },
    h("h2", {}, title),
    h("p", { class: "meta" }, `Escalated ${when(summary.endedAt)} after ${summary.steps ?? "?"} step(s) · `, h("a", { href: `#/runs/${id}` }, "Open the run")),
    summary.goal ? h("p", { class: "text" }, h("strong", {}, "Goal: "), summary.goal) : null,
    run?.reason ? h("p", { class: "text" }, h("strong", {}, "Why it stopped: "), run.reason) : null,
    h("section", { "aria-label": "Summary sent to a person" },
      h("h3", {}, "Summary sent to a person"),
      run?.escalationSummary ? h("pre", { class: "summary" }, run.escalationSummary) : h("p", { class: "empty" }, "The Notifier is writing the summary…")),
    run ? h("details", { class: "transcript" },
      h("summary", {}, `Transcript (${run.steps.length} step${run.steps.length === 1 ? "" : "s"})`),
      h("ol", { class: "steps" }, run.steps.map(s => stepItem(s, run.approvals ?? [], caller)))) : null,
    item.sent ? h("p", { class: "approved", role: "status" }, item.sent)
      : mayAct
        ? h("div", { class: "takeover" },
          h("form", { class: "decision", "aria-label": `Resume ${id}`, onsubmit: (e: Event) => { e.preventDefault(); void act(item, "resume", value(guidance)); } },
            ...guidance, h("div", { class: "buttons" }, h("button", { type: "submit" }, "Resume with guidance"))),
          h("form", { class: "decision", "aria-label": `Close ${id}`, onsubmit: (e: Event) => { e.preventDefault(); void act(item, "close", value(resolution)); } },
            ...resolution, h("div", { class: "buttons" }, h("button", { type: "submit", class: "danger" }, "Close with resolution"))))
        : null,
    item.problem ? problemBox(`Nothing was done: ${item.problem}`) : null);
}
