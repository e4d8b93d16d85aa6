using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Agentry.Gateway;
using Agentry.Gateway.Tracing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Agentry.Tests.Gateway.Tracing;

/// The distributed mode: `agentry serve` configured with Tracing:Jaeger:QueryUrl reads a run's spans
/// from jaeger-query's HTTP API, here a local server in the test that answers in Jaeger's JSON
/// (JaegerAnswers; no Jaeger can be installed here).
public sealed class When_a_runs_trace_is_read_from_jaeger : AgentryServerFixture
{
    private WebApplication _jaeger = null!;
    private Uri _jaegerBase = null!;
    private Func<HttpRequest, IResult> _answer = null!;
    private readonly List<IQueryCollection> _searches = [];

    [OneTimeSetUp]
    public async Task StartJaeger() =>
        (_jaeger, _jaegerBase) = await LocalHttpServer.StartAsync(app => app.MapGet("/jaeger/api/traces", (HttpRequest request) =>
        {
            lock (_searches)
            {
                _searches.Add(request.Query);
            }

            return _answer(request);
        }));

    [OneTimeTearDown]
    public async Task StopJaeger() => await _jaeger.DisposeAsync();

    /// A recorded trace in which the run's id is the one the search asked for.
    private static IResult RecordedTrace(HttpRequest request)
    {
        var tags = JsonSerializer.Deserialize<Dictionary<string, string>>(request.Query["tags"].ToString())!;
        return Results.Text(JaegerAnswers.OneRun(Guid.Parse(tags["agentry.run_id"])), "application/json");
    }

    protected override void Configure(Dictionary<string, string?> settings)
    {
        _answer = RecordedTrace;
        _searches.Clear();
        settings["Tracing:Jaeger:QueryUrl"] = new Uri(_jaegerBase, "/jaeger").ToString();
        settings["Tracing:Jaeger:UiUrl"] = "http://jaeger.example:16686";
    }

    private async Task<Guid> StartRunAsync()
    {
        using var response = await Http.PostAsJsonAsync("/runs", new { agent = "customer-support", goal = "Where is order 1042?" });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        var runId = (await response.Content.ReadFromJsonAsync<StartRunResponse>())!.RunId;
        await Eventually.RunAsync(Http, runId, r => r.Goal is not null, "the run to be recorded");
        return runId;
    }

    [Test]
    public async Task Should_search_the_planners_spans_by_the_run_id_and_read_jaegers_json()
    {
        var runId = Guid.NewGuid();
        var now = new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
        using var http = new HttpClient();
        var jaeger = new JaegerTraces(http, Options.Create(new JaegerOptions { QueryUrl = new Uri(_jaegerBase, "/jaeger").ToString(), Lookback = TimeSpan.FromHours(2) }), new FakeTimeProvider(now));

        var spans = await jaeger.SpansOfRunAsync(runId, CancellationToken.None);

        var search = _searches.Last();
        Assert.That(search["service"].ToString(), Is.EqualTo("agentry-planner"));
        Assert.That(JsonSerializer.Deserialize<Dictionary<string, string>>(search["tags"].ToString()), Is.EqualTo(new Dictionary<string, string> { ["agentry.run_id"] = runId.ToString() }));
        Assert.That(long.Parse(search["end"].ToString()) - long.Parse(search["start"].ToString()), Is.EqualTo(2L * 3600 * 1_000_000), "start and end in microseconds, Lookback apart");
        Assert.That(long.Parse(search["end"].ToString()), Is.EqualTo(now.ToUnixTimeMilliseconds() * 1000));

        Assert.That(spans.Select(s => (s.Service, s.Name, s.Kind)), Is.SupersetOf(new[]
        {
            ("agentry-gateway", "POST /runs/", "server"),
            ("agentry-gateway", "urn:message:Agentry.Contracts:GoalReceived send", "producer"),
            ("agentry-planner", "agent-run-state receive", "consumer"),
            ("agentry-planner", "chat gpt-4o-mini", "client"),
        }));
        var receive = spans.Single(s => s.Name == "agent-run-state receive");
        Assert.That((receive.ParentSpanId, receive.Start, receive.Duration), Is.EqualTo(("a1b2c3d4e5f60718", (DateTimeOffset)DateTimeOffset.FromUnixTimeMilliseconds(1765022400035), TimeSpan.FromMilliseconds(60))));
        Assert.That(spans.Where(s => s.Name == "agent-run-state process").Select(s => s.Status), Is.EqualTo(new[] { TraceStatus.Error, TraceStatus.Unset }));
        Assert.That(spans.Single(s => s.Name.StartsWith("chat", StringComparison.Ordinal)).Tags["agentry.step"], Is.EqualTo("1"), "a number tag read as its text");
        Assert.That(spans.Single(s => s.Name == "POST /runs/").ParentSpanId, Is.Null);
    }

    [Test]
    public async Task Should_answer_the_runs_timeline_from_jaeger_with_links_to_its_ui()
    {
        var runId = await StartRunAsync();

        var timeline = (await Http.GetFromJsonAsync<RunTimeline>($"/runs/{runId}/trace"))!;

        Assert.That(timeline.Source, Does.StartWith("Jaeger at http://127.0.0.1:"));
        Assert.That(timeline.Traces, Is.EqualTo(new[] { new TraceLink("4bf92f3577b34da6a3ce929d0e0e4736", "http://jaeger.example:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736") }));
        Assert.That(timeline.Spans.Single(s => s.Name == "agent-run-state receive").QueueWaitMs, Is.EqualTo(30));
        Assert.That(timeline.Spans.Where(s => s.RetryAttempt is not null).Select(s => (s.RetryAttempt, s.Status)), Is.EqualTo(new[] { ((int?)1, TraceStatus.Error), (2, TraceStatus.Unset) }));
        Assert.That(timeline.Steps, Is.EqualTo(new[] { new StepTiming(1, 850, 1) }));
        Assert.That(timeline.DurationMs, Is.EqualTo(950));
    }

    [Test]
    public async Task Should_say_what_jaeger_answered_when_it_refuses_the_search()
    {
        var runId = await StartRunAsync();
        _answer = _ => Results.Text(JaegerAnswers.BadRequest, "application/json", statusCode: StatusCodes.Status400BadRequest);

        using var response = await Http.GetAsync($"/runs/{runId}/trace");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadGateway));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("answered 400 Bad Request").And.Contain("parameter 'service' is required"));
    }

    [Test]
    public async Task Should_say_so_when_jaeger_has_no_trace_of_the_run()
    {
        var runId = await StartRunAsync();
        _answer = _ => Results.Text("""{"data":[],"total":0,"limit":0,"offset":0,"errors":null}""", "application/json");

        using var response = await Http.GetAsync($"/runs/{runId}/trace");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain($"No span of run {runId} is in Jaeger at").And.Contain("Tracing:Jaeger:Service"));
    }
}
