using System.Globalization;
using System.Net;
using System.Text;
using Agentry.Evaluation.Results;
using Agentry.Evaluation.Statistics;
using Agentry.Llm;

namespace Agentry.Evaluation.Reports;

/// The page `agentry eval report` writes: one eval run (summary, each case with its verdict,
/// per-grader scores, cost, tokens and latency, the latency distribution) and the runs of the same
/// dataset before it (pass rate and cost over time). Self-contained: inline CSS and SVG, no script,
/// nothing fetched, so it can be mailed, attached to CI, or opened offline. Every string that came
/// from a dataset, an agent or a model is HTML-encoded.
public static class HtmlReport
{
    /// history: the runs of the run's dataset, oldest first, the run among them (see ReportHistory).
    public static string Render(EvalRunRecord run, IReadOnlyList<EvalRunRecord> history)
    {
        if (!history.Any(h => h.Id == run.Id))
        {
            history = [.. history, run];
        }

        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append($"<title>Eval report: {E(run.Dataset)} ({run.StartedAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC)</title>")
            .Append("<style>").Append(ReportStyle.Css).Append("</style></head><body>");
        html.Append($"<h1>Eval report: {E(run.Dataset)}</h1>");
        AppendSummary(html, run);
        AppendCharts(html, run, history);
        AppendCases(html, run);
        AppendHistory(html, run, history);
        html.Append("<footer>Written by <code>agentry eval report</code>. Verdicts follow the rule in docs/evaluation.md.</footer></body></html>\n");
        return html.ToString();
    }

    private static void AppendSummary(StringBuilder html, EvalRunRecord run)
    {
        html.Append("<dl class=\"meta\">")
            .Append($"<dt>Eval run</dt><dd><code>{run.Id}</code>, started {run.StartedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC, took {Seconds(run.Duration)}</dd>")
            .Append($"<dt>Dataset</dt><dd>{E(run.Dataset)} (version {E(run.DatasetVersion)}, {E(run.DatasetFile)})</dd>")
            .Append($"<dt>Agents</dt><dd>{E(run.Agents)}</dd>")
            .Append($"<dt>Model</dt><dd>{E(Or(run.Model))}</dd>")
            .Append($"<dt>Judge</dt><dd>{E(Or(run.JudgeModel))} (rubric prompt {E(run.JudgePromptVersion)})</dd>")
            .Append($"<dt>Trials per case</dt><dd>{run.Repeat}</dd></dl>");
        html.Append("<section class=\"tiles\">")
            .Append(Tile("passed", "Cases passed", $"{run.CasesPassed} of {run.Cases.Count}", Percent(run.PassRate)))
            .Append(Tile("cost", "Cost", ModelPrices.Format(run.Cost), $"+ {ModelPrices.Format(run.JudgeCost)} judge"))
            .Append(Tile("tokens", "Tokens", run.Tokens.ToString(CultureInfo.InvariantCulture), $"{run.Trials.Count()} trial(s)"))
            .Append(Tile("latency", "Latency p50", Seconds(run.LatencyP50), $"p95 {Seconds(run.LatencyP95)}"))
            .Append("</section>");
    }

    private static void AppendCharts(StringBuilder html, EvalRunRecord run, IReadOnlyList<EvalRunRecord> history)
    {
        html.Append("<section class=\"charts\">");
        var passRates = history.Select(h => Point(h, run, h.PassRate, $"{Percent(h.PassRate)} of {h.Cases.Count} cases passed")).ToList();
        html.Append("<figure><figcaption>Pass rate over eval runs</figcaption>")
            .Append(SvgCharts.Line("pass-rate-chart", "Share of cases passed in each eval run of the dataset", passRates, 1, [0, 0.25, 0.5, 0.75, 1], Percent))
            .Append("</figure>");

        var costs = history.Select(h => Point(h, run, (double)h.Cost, $"{ModelPrices.Format(h.Cost)} agents + {ModelPrices.Format(h.JudgeCost)} judge")).ToList();
        // The offline model costs nothing: an axis up to one cent keeps a flat line readable.
        var costMax = SvgCharts.NiceStep(Math.Max(0.01, costs.Max(c => c.Value)));
        html.Append("<figure><figcaption>Cost of the agents over eval runs</figcaption>")
            .Append(SvgCharts.Line("cost-chart", "Cost of the agents' runs in each eval run of the dataset", costs, costMax, [0, costMax / 2, costMax], c => ModelPrices.Format((decimal)c)))
            .Append("</figure>");

        html.Append("<figure><figcaption>Latency distribution (this run's trials)</figcaption>")
            .Append(SvgCharts.Histogram("latency-histogram", "How many trials took how long", run.Trials.Select(t => t.Latency).ToList()))
            .Append("</figure></section>");
        html.Append($"<p class=\"note\">{history.Count} eval run(s) of {E(run.Dataset)} up to this one, oldest first; the ringed point is this run. Hover a point for its agents and model.</p>");
    }

    private static ChartPoint Point(EvalRunRecord point, EvalRunRecord current, double value, string what) => new(
        point.Id.ToString(),
        point.StartedAt.UtcDateTime.ToString("MM-dd HH:mm", CultureInfo.InvariantCulture),
        value,
        $"{point.StartedAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC: {what}; {point.Agents}, {Or(point.Model)}, dataset version {point.DatasetVersion}",
        point.Id == current.Id);

    private static void AppendCases(StringBuilder html, EvalRunRecord run)
    {
        var graders = run.GraderScores.Select(g => g.Grader).ToList();
        html.Append("<h2>Cases</h2><table id=\"cases\"><thead><tr><th>Case</th><th>Agent</th><th>Verdict</th><th>Passed</th>");
        foreach (var grader in graders)
        {
            html.Append($"<th class=\"grader\">{E(grader)}</th>");
        }

        html.Append("<th>Cost</th><th>Tokens</th><th>Latency p50</th><th>Answer and failures</th></tr></thead><tbody>");
        foreach (var c in run.Cases)
        {
            var verdict = c.Verdict.ToString().ToLowerInvariant();
            html.Append($"<tr class=\"case\" data-case=\"{E(c.CaseId)}\" data-verdict=\"{verdict}\">")
                .Append($"<td class=\"case-id\" title=\"{E(c.Goal)}\">{E(c.CaseId)}</td><td>{E(c.Agent)}</td>")
                .Append($"<td class=\"verdict {verdict}\">{verdict.ToUpperInvariant()}</td>")
                .Append($"<td class=\"num\" title=\"95% interval {Percent(c.Interval.Lower)} to {Percent(c.Interval.Upper)}; threshold {Percent(c.Threshold)}\">{c.Passes}/{c.Trials.Count}</td>");
            foreach (var grader in graders)
            {
                var grades = c.Trials.SelectMany(t => t.Grades).Where(g => g.Grader == grader).ToList();
                html.Append(grades.Count == 0
                    ? "<td class=\"num none\">-</td>"
                    : $"<td class=\"num {(grades.All(g => g.Passed) ? "pass" : "fail")}\" data-grader=\"{E(grader)}\">{grades.Average(g => g.Score).ToString("0.00", CultureInfo.InvariantCulture)}</td>");
            }

            html.Append($"<td class=\"num\">{ModelPrices.Format(c.Trials.Sum(t => t.Cost))}</td>")
                .Append($"<td class=\"num\">{c.Trials.Sum(t => t.Tokens)}</td>")
                .Append($"<td class=\"num\">{Seconds(Percentiles.Of(c.Trials.Select(t => t.Latency), 50))}</td><td class=\"detail\">");
            AppendAnswerAndFailures(html, c);
            html.Append("</td></tr>");
        }

        html.Append("</tbody></table>");
    }

    private static void AppendAnswerAndFailures(StringBuilder html, CaseResult c)
    {
        foreach (var failure in c.Failures.Take(5))
        {
            html.Append($"<div class=\"failure\">{E(failure)}</div>");
        }

        if (c.Trials.FirstOrDefault(t => t.Answer is not null) is { } answered)
        {
            html.Append($"<details><summary>Answer (trial {answered.Trial}, {E(answered.Status?.ToString().ToLowerInvariant() ?? "no status")})</summary><pre>{E(answered.Answer!)}</pre></details>");
        }
    }

    private static void AppendHistory(StringBuilder html, EvalRunRecord run, IReadOnlyList<EvalRunRecord> history)
    {
        html.Append("<h2>Eval runs of this dataset</h2><table id=\"history\"><thead><tr><th>Started (UTC)</th><th>Eval run</th><th>Agents</th><th>Model</th><th>Dataset version</th><th>Passed</th><th>Cost</th></tr></thead><tbody>");
        foreach (var h in history.Reverse())
        {
            html.Append($"<tr{(h.Id == run.Id ? " class=\"current\"" : "")}><td>{h.StartedAt.UtcDateTime:yyyy-MM-dd HH:mm}</td><td><code>{h.Id}</code></td><td>{E(h.Agents)}</td><td>{E(Or(h.Model))}</td>")
                .Append($"<td>{E(h.DatasetVersion)}</td><td class=\"num\">{h.CasesPassed}/{h.Cases.Count}</td><td class=\"num\">{ModelPrices.Format(h.Cost)}</td></tr>");
        }

        html.Append("</tbody></table>");
    }

    private static string Tile(string id, string label, string value, string detail) =>
        $"<div class=\"tile\" id=\"tile-{id}\"><div class=\"label\">{E(label)}</div><div class=\"value\">{E(value)}</div><div class=\"detail\">{E(detail)}</div></div>";

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Or(string model) => string.IsNullOrEmpty(model) ? "(none recorded)" : model;

    private static string Percent(double share) => share.ToString("0%", CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + " s";
}
