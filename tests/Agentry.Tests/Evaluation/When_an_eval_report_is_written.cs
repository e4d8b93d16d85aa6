using System.Text.RegularExpressions;
using Agentry.Cli;
using Agentry.Cli.Eval;
using Agentry.Contracts;
using Agentry.Evaluation.Grading;
using Agentry.Evaluation.Reports;
using Agentry.Evaluation.Results;
using Agentry.Tests.Deploy;
using Microsoft.Playwright;

namespace Agentry.Tests.Evaluation;

/// `agentry eval report`: real eval runs of the shipped assistant dataset (embedded runtime, offline
/// model), one by the shipped agent and one by a copy without its calculator, written as the HTML
/// page and looked at in headless Chromium.
public sealed partial class When_an_eval_report_is_written
{
    private TempFolder _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = new TempFolder();

    [TearDown]
    public void RemoveFolder() => _folder.Dispose();

    private Dictionary<string, string?> Settings => new()
    {
        ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString,
        ["Tools:Orders:ConnectionString"] = $"Data Source={_folder.File("orders.db")};Pooling=False",
    };

    [Test]
    public async Task Should_chart_every_eval_run_of_the_dataset_and_list_each_case_with_its_verdict()
    {
        var passing = await EvalAsync(RepositoryFiles.PathOf("agents"));
        var broken = await EvalAsync(AgentsWithoutCalculator());

        var file = _folder.File("report.html");
        var (exit, output, error) = await ReportAsync(broken.ToString(), file);
        Assert.That(exit, Is.EqualTo(ExitCodes.Completed), output + error);
        Assert.That(output, Does.Contain($"Report written to {file}").And.Contain("1 of 3 cases passed; charted with 1 earlier run(s)"));

        await using var chromium = await HeadlessChromium.LaunchAsync();
        var page = await chromium.Browser.NewPageAsync();
        var requests = new List<string>();
        page.Request += (_, request) => requests.Add(request.Url);
        await page.GotoAsync(new Uri(file).AbsoluteUri);
        await HeadlessChromium.ScreenshotAsync(page, "eval-report");

        Assert.That(requests, Is.Not.Empty.And.All.StartsWith("file://"), "the page fetches nothing but itself");
        var passRates = await PointsAsync(page, "#pass-rate-chart");
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(passRates, Is.EqualTo(new[] { $"{passing}:1", $"{broken}:0.333333" }), "one point per eval run, oldest first");
            Assert.That(await page.Locator("#pass-rate-chart circle.point.current").GetAttributeAsync("data-run"), Is.EqualTo(broken.ToString()));
            Assert.That(await PointsAsync(page, "#cost-chart"), Has.Length.EqualTo(2));
            Assert.That(await page.Locator("#pass-rate-chart polyline.series").CountAsync(), Is.EqualTo(1));
            Assert.That(await page.EvalOnSelectorAllAsync<int>("#latency-histogram rect.bin", "bins => bins.reduce((sum, b) => sum + Number(b.dataset.count), 0)"),
                Is.EqualTo(3), "every trial in one bar");
            Assert.That(await page.EvalOnSelectorAllAsync<string[]>("#cases tr.case", "rows => rows.map(r => r.dataset.case + ' ' + r.querySelector('.verdict').textContent)"),
                Is.EqualTo(new[] { "arithmetic-uses-calculator FAIL", "time-in-tokyo PASS", "division-by-calculator FAIL" }));
            Assert.That(await page.Locator("#cases th.grader").AllInnerTextsAsync(), Is.EqualTo(new[] { "status", "answer", "tools", "budget", "rubric" }));
            var tools = page.Locator("#cases tr[data-case='arithmetic-uses-calculator'] td[data-grader='tools']");
            Assert.That(await tools.GetAttributeAsync("class"), Does.Contain("fail"));
            Assert.That(double.Parse(await tools.InnerTextAsync(), System.Globalization.CultureInfo.InvariantCulture), Is.LessThan(1));
            Assert.That(await page.Locator("#cases tr[data-case='arithmetic-uses-calculator'] .failure").AllInnerTextsAsync(), Has.Some.Contain("calculator was not called"));
            Assert.That(await page.Locator("#cases tr[data-case='time-in-tokyo'] td[data-grader='tools']").GetAttributeAsync("class"), Does.Contain("pass"));
            Assert.That(await page.Locator("#history tbody tr").CountAsync(), Is.EqualTo(2));
        });

        // A report of the earlier run charts only the runs up to it.
        var earlier = _folder.File("earlier.html");
        Assert.That((await ReportAsync(passing.ToString(), earlier)).Exit, Is.EqualTo(ExitCodes.Completed));
        await page.GotoAsync(new Uri(earlier).AbsoluteUri);
        Assert.That(await PointsAsync(page, "#pass-rate-chart"), Is.EqualTo(new[] { $"{passing}:1" }));
        Assert.That(await page.Locator("#cases td.verdict.pass").CountAsync(), Is.EqualTo(3));
    }

    [Test]
    public async Task Should_refuse_an_unknown_eval_run_and_write_nothing()
    {
        var file = _folder.File("report.html");
        var unknown = Guid.NewGuid();
        var (exit, _, error) = await ReportAsync(unknown.ToString(), file);
        Assert.That(exit, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(error, Does.Contain($"No eval run {unknown}").And.Contain("agentry eval list"));
        Assert.That(File.Exists(file), Is.False);

        var (notARun, _, notARunError) = await ReportAsync("last-tuesday", file);
        Assert.That(notARun, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(notARunError, Does.Contain("'last-tuesday' is neither an eval run id"));

        var (latest, _, latestError) = await ReportAsync(EvalCommands.LatestBaseline, file);
        Assert.That(latest, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(latestError, Does.Contain("There are no eval runs"));
    }

    /// Names, goals, answers and grader reasons come from dataset files, agents and models: none may
    /// become markup. A run read from a --json file can hold any case id, so the id is tested too.
    [Test]
    public async Task Should_escape_every_string_from_the_dataset_and_the_run()
    {
        const string Injected = "<script>window.injected = 1</script>";
        var trial = new TrialResult(1, Guid.NewGuid(), RunStatus.Completed, "<img src=\"x\" onerror=\"window.injected = 2\">",
            [new Grade("answer", 0, false, "expected <b>42</b>")], Steps: 1, Tokens: 10, Cost: 0, TimeSpan.FromSeconds(1));
        var run = new EvalRunRecord(Guid.NewGuid(), "<i>dataset</i>", "evals/x.yaml", "v1 <u>", "assistant@abc", "m", "judge", "1", 1,
            DateTimeOffset.UtcNow, TimeSpan.FromSeconds(2), [new CaseResult(Injected, "assistant", "goal <marquee>", 0.5, [trial])]);
        var html = HtmlReport.Render(run, [run]);
        Assert.That(html, Does.Not.Contain("<script").And.Not.Contain("<img").And.Not.Contain("<b>42").And.Not.Contain("<i>dataset").And.Not.Contain("<marquee"));
        Assert.That(html, Does.Contain("&lt;script&gt;window.injected = 1&lt;/script&gt;"));

        var file = _folder.Write("escaped.html", html);
        await using var chromium = await HeadlessChromium.LaunchAsync();
        var page = await chromium.Browser.NewPageAsync();
        var requests = new List<string>();
        page.Request += (_, request) => requests.Add(request.Url);
        await page.GotoAsync(new Uri(file).AbsoluteUri);
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(await page.EvaluateAsync<bool>("() => window.injected === undefined && document.querySelectorAll('script, img, marquee').length === 0"), Is.True);
            Assert.That(await page.Locator("#cases td.case-id").InnerTextAsync(), Is.EqualTo(Injected));
            Assert.That(await page.Locator("h1").InnerTextAsync(), Is.EqualTo("Eval report: <i>dataset</i>"));
            Assert.That(requests, Is.EqualTo(new[] { new Uri(file).AbsoluteUri }), "an unescaped <img src> would have been fetched");
        });
    }

    private async Task<Guid> EvalAsync(string agentsPath)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var options = new EvalOptions(RepositoryFiles.PathOf("agents/evals/assistant.yaml"), AgentsPath: agentsPath, Settings: Settings);
        await EvalCommands.EvaluateAsync(options, output, error, timeout.Token);
        var stored = StoredPattern().Match(output.ToString());
        Assert.That(stored.Success, Is.True, output.ToString() + error);
        return Guid.Parse(stored.Groups[1].Value);
    }

    private async Task<(int Exit, string Output, string Error)> ReportAsync(string run, string file)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await EvalReportCommand.ReportAsync(run, file, Settings, output, error, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }

    /// The shipped agents, the assistant without its calculator: it cannot do the arithmetic cases.
    private string AgentsWithoutCalculator()
    {
        var agents = Directory.CreateDirectory(_folder.File("agents")).FullName;
        foreach (var file in Directory.EnumerateFiles(RepositoryFiles.PathOf("agents"), "*.yaml"))
        {
            File.Copy(file, Path.Combine(agents, Path.GetFileName(file)));
        }

        var assistant = Path.Combine(agents, "assistant.yaml");
        File.WriteAllText(assistant, File.ReadAllText(assistant).Replace("  - calculator\n", "", StringComparison.Ordinal));
        return agents;
    }

    private static Task<string[]> PointsAsync(IPage page, string chart) =>
        page.EvalOnSelectorAllAsync<string[]>($"{chart} circle.point", "points => points.map(p => p.dataset.run + ':' + p.dataset.value)");

    [GeneratedRegex("Stored as ([0-9a-f-]{36})")]
    private static partial Regex StoredPattern();
}
