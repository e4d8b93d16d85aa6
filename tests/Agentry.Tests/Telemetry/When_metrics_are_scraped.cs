using System.Net.Http.Json;
using Agentry.Contracts;
using Agentry.Gateway;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Telemetry;

/// GET /metrics, as Prometheus scrapes every service, after runs went through the whole pipeline.
[NonParallelizable]
public sealed class When_metrics_are_scraped : AgentryServerFixture
{
    [Test]
    public async Task Should_expose_the_run_model_tool_and_stage_metrics_in_prometheus_format()
    {
        await RunToTheEndAsync("What is 17 * 23 + 4?", "What is 1/0?");

        using var response = await Http.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();

        Assert.That(response.IsSuccessStatusCode, text);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/plain").Or.EqualTo("application/openmetrics-text"));
        Assert.That(Lines(text, "agentry_runs_started_total"), Is.Not.Empty, text);
        Assert.That(Lines(text, "agentry_runs_finished_total{").Where(l => l.Contains("agentry_outcome=\"Completed\"", StringComparison.Ordinal)), Is.Not.Empty, text);
        Assert.That(Lines(text, "agentry_run_duration_seconds_bucket{"), Is.Not.Empty, text);
        Assert.That(Lines(text, "agentry_llm_tokens_total{").Where(l => l.Contains("gen_ai_token_type=\"input\"", StringComparison.Ordinal)), Is.Not.Empty, text);
        Assert.That(Lines(text, "gen_ai_client_operation_duration_seconds_bucket{"), Is.Not.Empty, text);
        Assert.That(Lines(text, "agentry_tool_calls_total{").Where(l => l.Contains("gen_ai_tool_name=\"calculator\"", StringComparison.Ordinal)), Is.Not.Empty, text);
        Assert.That(Lines(text, "agentry_tool_errors_total{").Where(l => l.Contains("error_type=\"Failed\"", StringComparison.Ordinal)), Is.Not.Empty, text);
        foreach (var stage in new[] { "context", "plan", "act", "evaluate" })
        {
            Assert.That(Lines(text, "agentry_step_duration_seconds_count{").Where(l => l.Contains($"agentry_stage=\"{stage}\"", StringComparison.Ordinal)), Is.Not.Empty, $"stage {stage}:\n{text}");
        }

        // MassTransit's meter is set up once per process, by the first bus: checked where each
        // service is a process of its own (Agentry.Distributed.Tests), not here after other tests' buses.
        // Buckets in seconds: a stage of a few milliseconds does not land in a first bucket of 5 s.
        Assert.That(Lines(text, "agentry_step_duration_seconds_bucket{").Where(l => l.Contains("le=\"0.005\"", StringComparison.Ordinal)), Is.Not.Empty, text);
        Assert.That(Lines(text, "http_server_request_duration_seconds_count{").Where(l => l.Contains("http_route=\"/runs/\"", StringComparison.Ordinal)), Is.Not.Empty, text);
    }

    private async Task RunToTheEndAsync(params string[] goals)
    {
        var ends = goals.ToDictionary(g => g, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var runs = new Dictionary<Guid, string>();
        var handle = App.Services.GetRequiredService<IBus>().ConnectReceiveEndpoint(e => e.Handler<RunCompleted>(c =>
        {
            lock (runs)
            {
                if (runs.TryGetValue(c.Message.RunId, out var goal))
                {
                    ends[goal].TrySetResult();
                }
            }

            return Task.CompletedTask;
        }));
        await handle.Ready;
        foreach (var goal in goals)
        {
            using var response = await Http.PostAsJsonAsync("/runs", new { agent = "assistant", goal });
            var started = await response.Content.ReadFromJsonAsync<StartRunResponse>();
            lock (runs)
            {
                runs[started!.RunId] = goal;
            }
        }

        await Task.WhenAll(ends.Values.Select(e => e.Task)).WaitAsync(TimeSpan.FromSeconds(60));
        await handle.StopAsync();
    }

    private static List<string> Lines(string text, string prefix) =>
        text.Split('\n').Where(l => l.StartsWith(prefix, StringComparison.Ordinal)).ToList();
}
