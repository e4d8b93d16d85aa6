import "./style.css";
import { ApiError, credential, get, type Caller } from "./api";
import { h, problemBox, replace } from "./dom";
import { showRuns } from "./runs";
import { showRun } from "./run";
import { showApprovals } from "./approvals";
import { showEscalations } from "./escalations";
import { showAgent, showAgents } from "./agents";
import { showComparison, showEvaluation, showEvaluations } from "./evaluations";

const main = document.getElementById("main")!;
const nav = document.getElementById("nav")!;
const who = document.getElementById("who")!;

/// What the page open now must stop (its event stream) before another replaces it.
let leave: () => void = () => {};
let caller: Caller | null = null;

function signIn(message?: string): void {
  nav.hidden = true;
  replace(who);
  const input = h("input", { id: "credential", name: "credential", type: "password", autocomplete: "off", required: true, "aria-describedby": "credential-help" }) as HTMLInputElement;
  const form = h("form", { class: "card signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in to the Agentry console"),
    message ? problemBox(message) : null,
    h("label", { for: "credential" }, "API key or bearer token"),
    input,
    h("p", { id: "credential-help", class: "hint" },
      "An API key (agk_…) from `agentry keys create` or POST /keys, or a token from your identity provider. It is kept in this tab only and sent with every request."),
    h("button", { type: "submit" }, "Sign in"));
  form.addEventListener("submit", async event => {
    event.preventDefault();
    credential.set(input.value.trim());
    await start();
  });
  replace(main, form);
  input.focus();
}

function signOut(): void {
  leave();
  credential.clear();
  caller = null;
  signIn();
}

async function start(): Promise<void> {
  try {
    caller = await get<Caller>("/me");
  } catch (error) {
    credential.clear();
    signIn(error instanceof ApiError ? error.message : `The Gateway could not be reached: ${error}`);
    return;
  }
  nav.hidden = false;
  replace(who, h("span", {}, `${caller.name} · ${caller.tenantId} · ${caller.roles.join(", ")}`),
    h("button", { type: "button", class: "link", onclick: signOut }, "Sign out"));
  route();
}

function route(): void {
  if (!caller) return;
  leave();
  const path = location.hash.replace(/^#/, "") || "/runs";
  for (const link of nav.querySelectorAll("a")) {
    const current = path.startsWith(link.getAttribute("href")!.slice(1));
    if (current) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  const run = path.match(/^\/runs\/([0-9a-f-]{36})$/i);
  const agent = path.match(/^\/agents\/(.+)$/);
  const comparison = path.match(/^\/evaluations\/compare\/([^/]+)\/([^/]+)$/);
  const evaluation = path.match(/^\/evaluations\/(?!compare$)([^/]+)$/);
  leave = run ? showRun(main, run[1], caller)
    : agent ? showAgent(main, decodeURIComponent(agent[1]))
    : comparison ? showComparison(main, decodeURIComponent(comparison[1]), decodeURIComponent(comparison[2]))
    : evaluation ? showEvaluation(main, decodeURIComponent(evaluation[1]))
    : path.startsWith("/evaluations") ? showEvaluations(main)
    : path.startsWith("/agents") ? showAgents(main)
    : path.startsWith("/approvals") ? showApprovals(main, caller)
    : path.startsWith("/escalations") ? showEscalations(main, caller)
    : showRuns(main, caller);
  main.focus({ preventScroll: true });
}

window.addEventListener("hashchange", route);
if (credential.get()) void start(); else signIn();
