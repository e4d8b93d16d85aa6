import { get } from "./api";
import { dollars, facts, h, problemBox, replace, section, when } from "./dom";

export interface EvalRunItem {
  id: string; dataset: string; datasetVersion: string; agents: string; model: string; startedAt: string; cases: number; casesPassed: number;
  passRate: number; cost: number; judgeCost: number; tokens: number; latencyP50Ms: number; latencyP95Ms: number;
}
interface GraderScore { grader: string; mean: number; graded: number; passed: boolean }
interface Grade { grader: string; score: number; passed: boolean; reason: string }
interface Trial { trial: number; runId: string; status: string | null; passed: boolean; answer: string | null; grades: Grade[]; steps: number; tokens: number; cost: number; latencyMs: number }
interface EvalCase {
  caseId: string; agent: string; goal: string; threshold: number; verdict: string; passes: number; trials: number; passRate: number;
  intervalLower: number; intervalUpper: number; graders: GraderScore[]; cost: number; tokens: number; latencyP50Ms: number;
  failures: string[]; answer: string | null; trialResults: Trial[];
}
interface EvalRun extends EvalRunItem {
  datasetFile: string; judgeModel: string; judgePromptVersion: string; repeat: number; durationMs: number;
  graders: GraderScore[]; caseResults: EvalCase[]; previousId: string | null;
}
interface Side { verdict: string; passes: number; trials: number; failures: string[] }
interface Compared { caseId: string; change: string; baseline: Side | null; current: Side | null }
interface Comparison {
  baseline: EvalRunItem; current: EvalRunItem; passRateDrop: number; hasRegression: boolean; regressions: number; improvements: number;
  caveats: string[]; cases: Compared[];
}

/// How many runs the list, the trends and the pickers read.
const listed = 200;
const verdictOrder: Record<string, number> = { Fail: 0, Unstable: 1, Pass: 2 };
const changeOrder: Record<string, number> = { Regressed: 0, Improved: 1, Added: 2, Removed: 3, Unchanged: 4 };

const percent = (share: number) => `${Math.round(share * 100)}%`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const money = (cost: number) => dollars(cost) || "$0.0000";
const short = (id: string) => id.slice(0, 8);

function verdict(text: string): HTMLElement {
  return h("span", { class: `verdict verdict-${text.toLowerCase()}` }, text.toUpperCase());
}

function empty(): HTMLElement {
  return h("div", { class: "card" },
    h("p", {}, "No eval runs are stored yet."),
    h("p", {}, "Run a dataset of cases through the agents, then come back: ", h("code", {}, "agentry eval agents/evals/assistant.yaml"),
      " (any file in agents/evals/). Each run is stored where this Gateway reads them: the same SQLite file as ", h("code", {}, "agentry serve"),
      ", or the deployment's MongoDB when ", h("code", {}, "ConnectionStrings__mongodb"), " is set (docs/evaluation.md)."));
}

function readRuns(dataset?: string): Promise<EvalRunItem[]> {
  const query = new URLSearchParams({ limit: String(listed) });
  if (dataset) query.set("dataset", dataset);
  return get<{ runs: EvalRunItem[] }>(`/evaluations?${query}`).then(list => list.runs);
}

const svgNs = "http://www.w3.org/2000/svg";

/// A small line of values, oldest first, with its label as the text a screen reader says.
function sparkline(values: number[], label: string): Element {
  const width = 120, height = 28, max = Math.max(...values, 0) || 1;
  const svg = document.createElementNS(svgNs, "svg");
  for (const [name, value] of Object.entries({ viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": label, class: "spark" })) svg.setAttribute(name, String(value));
  const x = (i: number) => values.length === 1 ? width / 2 : 3 + (i * (width - 6)) / (values.length - 1);
  const y = (v: number) => height - 3 - (v / max) * (height - 6);
  const line = document.createElementNS(svgNs, "polyline");
  line.setAttribute("points", values.map((v, i) => `${x(i)},${y(v)}`).join(" "));
  svg.append(line);
  const last = document.createElementNS(svgNs, "circle");
  for (const [name, value] of Object.entries({ cx: x(values.length - 1), cy: y(values[values.length - 1]), r: 3 })) last.setAttribute(name, String(value));
  svg.append(last);
  return svg;
}

/// Per dataset: its runs' pass rate and cost, oldest to newest, from the runs read.
function trends(runs: EvalRunItem[]): HTMLElement {
  const datasets = [...new Set(runs.map(r => r.dataset))].sort();
  return section("trends-title", "Datasets",
    h("div", { class: "scroll" },
      h("table", { class: "trends" },
        h("caption", {}, `Pass rate and cost of each dataset's eval runs, oldest to newest (the last ${listed} runs read).`),
        h("thead", {}, h("tr", {}, ["Dataset", "Runs", "Latest pass rate", "Pass rate", "Latest cost", "Cost"].map(c => h("th", { scope: "col" }, c)))),
        h("tbody", {}, datasets.map(name => {
          const own = runs.filter(r => r.dataset === name).reverse();
          const latest = own[own.length - 1];
          return h("tr", { "data-dataset": name },
            h("th", { scope: "row" }, name),
            h("td", { class: "number" }, own.length),
            h("td", { class: "number" }, percent(latest.passRate)),
            h("td", {}, sparkline(own.map(r => r.passRate), `${name} pass rate: ${own.map(r => percent(r.passRate)).join(", ")}`)),
            h("td", { class: "number" }, money(latest.cost + latest.judgeCost)),
            h("td", {}, sparkline(own.map(r => r.cost + r.judgeCost), `${name} cost: ${own.map(r => money(r.cost + r.judgeCost)).join(", ")}`)));
        })))));
}

/// The eval runs, newest first, filtered by dataset, with each dataset's trend.
export function showEvaluations(main: HTMLElement): () => void {
  const message = h("div");
  const trend = h("div");
  const body = h("tbody", {}, h("tr", {}, h("td", { colspan: 9, class: "empty" }, "Reading the eval runs…")));
  const dataset = h("select", { id: "filter-dataset", name: "dataset" }, h("option", { value: "" }, "Any dataset")) as HTMLSelectElement;
  const table = h("div", { class: "scroll" },
    h("table", { class: "evaluations" },
      h("caption", { class: "visually-hidden" }, "Eval runs, newest first"),
      h("thead", {}, h("tr", {}, ["Started", "Dataset", "Agents", "Model", "Cases passed", "Pass rate", "Cost", "Tokens", "Latency p50 / p95"].map(c => h("th", { scope: "col" }, c)))),
      body));
  replace(main,
    h("div", { class: "heading" }, h("h1", {}, "Evaluations")),
    h("form", { class: "filters", role: "search", "aria-label": "Filter eval runs", onsubmit: (e: Event) => e.preventDefault() },
      h("div", {}, h("label", { for: "filter-dataset" }, "Dataset"), dataset)),
    message, trend, table);

  let stopped = false;
  const render = (runs: EvalRunItem[]) => replace(body, runs.length === 0
    ? h("tr", {}, h("td", { colspan: 9, class: "empty" }, "No eval runs of this dataset."))
    : runs.map(run => h("tr", { "data-eval-run": run.id },
      h("td", {}, h("a", { href: `#/evaluations/${run.id}` }, when(run.startedAt))),
      h("td", {}, run.dataset, h("span", { class: "meta" }, ` ${run.datasetVersion}`)),
      h("td", {}, run.agents),
      h("td", {}, run.model || "(none recorded)"),
      h("td", { class: "number" }, `${run.casesPassed} of ${run.cases}`),
      h("td", { class: "number" }, percent(run.passRate)),
      h("td", { class: "number" }, money(run.cost + run.judgeCost)),
      h("td", { class: "number" }, run.tokens.toLocaleString()),
      h("td", { class: "number" }, `${seconds(run.latencyP50Ms)} / ${seconds(run.latencyP95Ms)}`))));

  const load = async () => {
    try {
      const runs = await readRuns(dataset.value || undefined);
      if (stopped) return;
      replace(message);
      render(runs);
    } catch (error) {
      replace(message, problemBox(`The eval runs could not be read: ${(error as Error).message}`));
      replace(body);
    }
  };
  dataset.addEventListener("change", () => void load());

  void (async () => {
    try {
      const runs = await readRuns();
      if (stopped) return;
      if (runs.length === 0) {
        replace(main, h("div", { class: "heading" }, h("h1", {}, "Evaluations")), empty());
        return;
      }
      for (const name of [...new Set(runs.map(r => r.dataset))].sort()) dataset.append(h("option", { value: name }, name));
      replace(trend, trends(runs));
      render(runs);
    } catch (error) {
      replace(message, problemBox(`The eval runs could not be read: ${(error as Error).message}`));
      replace(body);
    }
  })();
  return () => { stopped = true; };
}

/// One eval run: what was evaluated and with what, its totals, and each case, the failing first.
export function showEvaluation(main: HTMLElement, id: string): () => void {
  replace(main, h("p", {}, h("a", { href: "#/evaluations" }, "← All eval runs")), h("p", { class: "empty" }, "Reading the eval run…"));
  let stopped = false;
  void (async () => {
    let run: EvalRun;
    let others: EvalRunItem[] = [];
    try {
      run = await get<EvalRun>(`/evaluations/${encodeURIComponent(id)}`);
      others = (await readRuns(run.dataset).catch(() => [])).filter(r => r.id !== run.id);
    } catch (error) {
      if (!stopped) replace(main, h("p", {}, h("a", { href: "#/evaluations" }, "← All eval runs")), problemBox((error as Error).message));
      return;
    }
    if (stopped) return;

    const onlyFailing = h("input", { type: "checkbox", id: "only-failing" }) as HTMLInputElement;
    const body = h("tbody");
    const graders = run.graders.map(g => g.grader);
    const cases = [...run.caseResults].sort((a, b) => verdictOrder[a.verdict] - verdictOrder[b.verdict]);
    const renderCases = () => {
      const shown = onlyFailing.checked ? cases.filter(c => c.verdict !== "Pass") : cases;
      replace(body, shown.length === 0
        ? h("tr", {}, h("td", { colspan: 7 + graders.length, class: "empty" }, "Every case passed."))
        : shown.map(c => caseRow(c, graders)));
    };
    onlyFailing.addEventListener("change", renderCases);
    renderCases();

    const picker = h("select", { id: "compare-with", name: "baseline" },
      others.map(r => h("option", { value: r.id, selected: r.id === run.previousId }, `${when(r.startedAt)} · ${percent(r.passRate)} · ${r.agents} (${short(r.id)})`))) as HTMLSelectElement;
    const compare = others.length === 0
      ? h("p", { class: "hint" }, `This is the only stored run of ${run.dataset}: run the dataset again to compare.`)
      : h("form", { class: "compare-form", "aria-label": "Compare with another run", onsubmit: (e: Event) => { e.preventDefault(); location.hash = `#/evaluations/compare/${picker.value}/${run.id}`; } },
        h("label", { for: "compare-with" }, "Compare with (baseline)"), picker, h("button", { type: "submit" }, "Compare"));

    replace(main,
      h("p", {}, h("a", { href: "#/evaluations" }, "← All eval runs")),
      h("div", { class: "heading" }, h("h1", {}, `Eval run of ${run.dataset}`), h("span", { class: "meta" }, run.id)),
      h("p", { class: "summary", "aria-label": "Result" },
        `${run.casesPassed} of ${run.cases} cases passed (${percent(run.passRate)}) · ${money(run.cost)} agents + ${money(run.judgeCost)} judge · ${run.tokens.toLocaleString()} tokens · latency p50 ${seconds(run.latencyP50Ms)}, p95 ${seconds(run.latencyP95Ms)}`),
      section("run-title", "What was evaluated",
        facts(
          ["Dataset", `${run.dataset}, version ${run.datasetVersion} (${run.datasetFile})`],
          ["Agents", run.agents],
          ["Model", run.model || "(none recorded)"],
          ["Judge", `${run.judgeModel || "(none)"}, rubric prompt ${run.judgePromptVersion || "(none)"}`],
          ["Trials per case", String(run.repeat)],
          ["Started", `${when(run.startedAt)}, took ${seconds(run.durationMs)}`],
          ["Graders", run.graders.map(g => `${g.grader} ${g.mean.toFixed(2)} (${g.graded})`).join(" · ") || "none"])),
      section("compare-title", "Compare", compare),
      section("cases-title", `Cases (${run.cases})`,
        h("label", { class: "check", for: "only-failing" }, onlyFailing, "Only cases that did not pass"),
        h("div", { class: "scroll" },
          h("table", { class: "cases" },
            h("caption", {}, "Failing cases first. A grader's cell is its mean score over the trials it graded, marked failed when any trial failed it."),
            h("thead", {}, h("tr", {}, ["Case", "Verdict", "Passed", ...graders, "Cost", "Tokens", "Latency p50", "Failures and answer"].map(c => h("th", { scope: "col" }, c)))),
            body))));
  })();
  return () => { stopped = true; };
}

function caseRow(c: EvalCase, graders: string[]): HTMLElement {
  return h("tr", { "data-case": c.caseId, "data-verdict": c.verdict.toLowerCase() },
    h("th", { scope: "row" }, c.caseId, h("span", { class: "meta case-goal" }, `${c.agent}: ${c.goal}`)),
    h("td", {}, verdict(c.verdict)),
    h("td", { class: "number", title: `95% interval ${percent(c.intervalLower)} to ${percent(c.intervalUpper)}; threshold ${percent(c.threshold)}` }, `${c.passes}/${c.trials}`),
    graders.map(name => {
      const score = c.graders.find(g => g.grader === name);
      return score
        ? h("td", { class: `number score ${score.passed ? "passed" : "failed"}`, "data-grader": name }, score.mean.toFixed(2), score.passed ? null : h("span", { class: "visually-hidden" }, " (failed)"))
        : h("td", { class: "number empty", "data-grader": name }, "–");
    }),
    h("td", { class: "number" }, money(c.cost)),
    h("td", { class: "number" }, c.tokens.toLocaleString()),
    h("td", { class: "number" }, seconds(c.latencyP50Ms)),
    h("td", {},
      c.failures.length > 0 ? h("ul", { class: "failures" }, c.failures.slice(0, 5).map(f => h("li", {}, f))) : null,
      c.answer !== null ? h("details", {}, h("summary", {}, "Answer"), h("pre", {}, c.answer)) : null,
      h("p", { class: "meta" }, "Runs: ", c.trialResults.flatMap((t, i) => [i > 0 ? ", " : "", h("a", { href: `#/runs/${t.runId}` }, `trial ${t.trial}`)]))));
}

/// Two eval runs case by case, as `agentry eval compare A B` shows them: regressions first.
export function showComparison(main: HTMLElement, baselineId: string, currentId: string): () => void {
  const back = h("p", {}, h("a", { href: `#/evaluations/${encodeURIComponent(currentId)}` }, "← The eval run"));
  replace(main, back, h("p", { class: "empty" }, "Comparing…"));
  let stopped = false;
  void (async () => {
    let comparison: Comparison;
    let runs: EvalRunItem[] = [];
    try {
      comparison = await get<Comparison>(`/evaluations/compare?${new URLSearchParams({ a: baselineId, b: currentId })}`);
      runs = await readRuns().catch(() => []);
    } catch (error) {
      if (!stopped) replace(main, back, problemBox((error as Error).message));
      return;
    }
    if (stopped) return;
    const { baseline, current } = comparison;

    const choose = (id: string, label: string, selected: string) => {
      const options = runs.some(r => r.id === selected) ? runs : [selected === baseline.id ? baseline : current, ...runs];
      const select = h("select", { id, name: id }, options.map(r => h("option", { value: r.id, selected: r.id === selected }, `${r.dataset} · ${when(r.startedAt)} · ${percent(r.passRate)} (${short(r.id)})`))) as HTMLSelectElement;
      return [h("label", { for: id }, label), select] as const;
    };
    const [baselineLabel, baselinePick] = choose("baseline", "Baseline", baseline.id);
    const [currentLabel, currentPick] = choose("current", "Compared with it", current.id);
    const go = () => { location.hash = `#/evaluations/compare/${baselinePick.value}/${currentPick.value}`; };
    baselinePick.addEventListener("change", go);
    currentPick.addEventListener("change", go);

    const cases = [...comparison.cases].sort((a, b) => changeOrder[a.change] - changeOrder[b.change]);
    const side = (s: Side | null) => s ? [verdict(s.verdict), ` ${s.passes}/${s.trials}`] : h("span", { class: "empty" }, "not in this run");
    const drop = comparison.passRateDrop;
    replace(main, back,
      h("div", { class: "heading" }, h("h1", {}, `Comparison of ${current.dataset}`)),
      h("form", { class: "filters", "aria-label": "Runs compared", onsubmit: (e: Event) => e.preventDefault() },
        h("div", {}, baselineLabel, baselinePick), h("div", {}, currentLabel, currentPick)),
      comparison.caveats.map(c => h("p", { class: "notice" }, c)),
      h("p", { class: "summary", "aria-label": "Outcome" },
        `Cases passed: ${percent(baseline.passRate)} → ${percent(current.passRate)} (${drop > 0 ? "−" : "+"}${Math.abs(drop * 100).toFixed(1)} points) · `
        + `${comparison.regressions} regression${comparison.regressions === 1 ? "" : "s"}, ${comparison.improvements} improvement${comparison.improvements === 1 ? "" : "s"}`),
      h("p", { class: comparison.hasRegression ? "problem" : "hint" },
        comparison.hasRegression ? "A gate (agentry eval --baseline) would fail: the compared run regressed." : "A gate (agentry eval --baseline) would pass: nothing regressed."),
      section("compared-title", "Cases",
        h("div", { class: "scroll" },
          h("table", { class: "compared" },
            h("caption", {}, `Baseline ${short(baseline.id)} (${when(baseline.startedAt)}, ${baseline.agents}) against ${short(current.id)} (${when(current.startedAt)}, ${current.agents}); regressions first.`),
            h("thead", {}, h("tr", {}, ["Case", "Baseline", "Compared", "Change", "Why the compared run failed it"].map(c => h("th", { scope: "col" }, c)))),
            h("tbody", {}, cases.map(c => h("tr", { "data-case": c.caseId, "data-change": c.change.toLowerCase() },
              h("th", { scope: "row" }, c.caseId),
              h("td", {}, side(c.baseline)),
              h("td", {}, side(c.current)),
              h("td", {}, h("span", { class: `change change-${c.change.toLowerCase()}` }, c.change.toUpperCase())),
              h("td", {}, c.current && c.current.failures.length > 0 ? h("ul", { class: "failures" }, c.current.failures.slice(0, 5).map(f => h("li", {}, f))) : ""))))))));
  })();
  return () => { stopped = true; };
}
