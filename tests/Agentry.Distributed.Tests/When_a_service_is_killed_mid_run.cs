using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Agentry.Distributed.Tests;

/// kill -9 of a service while runs are in flight, then a restart. The agent posts to a local HTTP
/// server with http_post (a tool with side effects); the server counts every post by its
/// Idempotency-Key, so a call that ran twice shows up as a key counted twice.
[NonParallelizable]
public sealed class When_a_service_is_killed_mid_run
{
    private const int Runs = 16;

    private WebApplication _server = null!;
    private Uri _hook = null!;
    private string _agents = null!;
    private readonly ConcurrentDictionary<string, int> _posts = new();

    [SetUp]
    public async Task StartServer()
    {
        _posts.Clear();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _server = builder.Build();
        // Slow enough that calls are in flight when a service is killed.
        _server.MapPost("/hook/{run}", async (HttpRequest request) =>
        {
            _posts.AddOrUpdate(request.Headers["Idempotency-Key"].ToString(), 1, (_, count) => count + 1);
            await Task.Delay(300);
            return Results.Json(new { stored = true });
        });
        // Never answers: a run calling it can only end at its deadline.
        _server.MapPost("/stall/{run}", async (HttpRequest request, CancellationToken aborted) =>
        {
            _posts.AddOrUpdate(request.Headers["Idempotency-Key"].ToString(), 1, (_, count) => count + 1);
            await Task.Delay(Timeout.Infinite, aborted);
            return Results.Ok();
        });
        await _server.StartAsync();
        _hook = new Uri(_server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        _agents = Directory.CreateTempSubdirectory("agentry-agents-").FullName;
        File.Copy(Path.Combine(Repository.Root, "agents", "assistant.yaml"), Path.Combine(_agents, "assistant.yaml"));
        await File.WriteAllTextAsync(Path.Combine(_agents, "poster.yaml"), """
            description: Posts notes to a hook.
            instructions: Post the note with http_post, then say what the hook answered.
            tools: [http_post]
            limits:
              max_steps: 4
              deadline: 2m
            """);
        await File.WriteAllTextAsync(Path.Combine(_agents, "hurried.yaml"), """
            description: Posts with a short deadline.
            instructions: Post the note with http_post.
            tools: [http_post]
            limits:
              deadline: 4s
            """);
    }

    [TearDown]
    public async Task StopServer()
    {
        await _server.DisposeAsync();
        Directory.Delete(_agents, recursive: true);
    }

    [TestCase("Planner")]
    [TestCase("ToolExecutor")]
    public async Task Should_complete_every_run_without_running_a_side_effect_twice(string service)
    {
        await using var deployment = await Deployment.StartAsync(new Dictionary<string, string>
        {
            ["Agents__Path"] = _agents,
            ["Tools__HttpPost__AllowedHosts__0"] = "127.0.0.1",
            ["Tools__HttpPost__PrivateHosts__0"] = "127.0.0.1",
        });
        await using var outcomes = await RunOutcomes.StartAsync(deployment.AmqpUrl);
        var runs = Enumerable.Range(1, Runs).Select(_ => Guid.NewGuid()).ToList();
        // Goals arrive over a few seconds, so the kill finds runs finished, in flight and not started.
        var publishing = Task.Run(async () =>
        {
            foreach (var id in runs)
            {
                await RawRabbitMq.PublishGoalAsync(deployment.AmqpUrl, id, "poster", $"Post a note to {new Uri(_hook, $"/hook/{id}")}");
                await Task.Delay(150);
            }
        });
        var victim = deployment.Get(service);
        while (_posts.Count < 5)
        {
            await Task.Delay(20);
        }

        await victim.KillAsync();
        TestContext.Progress.WriteLine($"{service} killed after {_posts.Count} posts; restarting it.");
        await victim.StartAsync();
        await publishing;

        var ends = new List<(string Type, string Text)>();
        foreach (var run in runs)
        {
            var (type, message) = await outcomes.WaitAsync(run, TimeSpan.FromSeconds(120), () => deployment.Logs);
            ends.Add((type, message.TryGetProperty("answer", out var answer) ? answer.GetString()! : message.GetProperty("reason").GetString()!));
        }

        TestContext.Progress.WriteLine(string.Join(Environment.NewLine, ends.GroupBy(e => e.Text.Split('\n')[0]).Select(g => $"{g.Count()} x {g.Key}")));
        Assert.That(ends.Select(e => e.Type), Is.All.EqualTo("RunCompleted"), string.Join(Environment.NewLine, ends));
        Assert.That(_posts.Where(p => p.Value > 1).Select(p => p.Key), Is.Empty, "a call with side effects ran twice");
        Assert.That(_posts.Keys.Select(k => k.Split(':')[0]).Distinct().Count(), Is.GreaterThanOrEqualTo(Runs - 2),
            "most runs should have posted; interrupted ones report it instead");
    }

    [Test]
    public async Task Should_fail_a_run_at_its_deadline_even_when_the_planner_restarted_in_between()
    {
        await using var deployment = await Deployment.StartAsync(new Dictionary<string, string>
        {
            ["Agents__Path"] = _agents,
            ["Tools__HttpPost__AllowedHosts__0"] = "127.0.0.1",
            ["Tools__HttpPost__PrivateHosts__0"] = "127.0.0.1",
        });
        await using var outcomes = await RunOutcomes.StartAsync(deployment.AmqpUrl);
        var runId = Guid.NewGuid();

        await RawRabbitMq.PublishGoalAsync(deployment.AmqpUrl, runId, "hurried", $"Post a note to {new Uri(_hook, $"/stall/{runId}")}");
        while (_posts.IsEmpty)
        {
            await Task.Delay(20);
        }

        // The deadline is kept in Redis, not in the Planner that set it.
        var planner = deployment.Get("Planner");
        await planner.KillAsync();
        await planner.StartAsync();

        var (type, message) = await outcomes.WaitAsync(runId, TimeSpan.FromSeconds(60), () => deployment.Logs);
        Assert.That(type, Is.EqualTo("RunFailed"), () => $"{message}{Environment.NewLine}{deployment.Logs}");
        Assert.That(message.GetProperty("reason").GetString(), Does.StartWith("Deadline passed: the run was still Acting at step 1").And.EndWith("4s after it started."));
    }
}
