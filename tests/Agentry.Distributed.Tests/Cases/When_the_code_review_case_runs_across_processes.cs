using System.Net;
using System.Security.Cryptography;
using System.Text;
using Agentry.Contracts;
using Agentry.Gateway.Triggers;
using Agentry.Tests;
using Agentry.Tests.Cases;
using Agentry.Tests.Llm;
using Microsoft.Data.Sqlite;

namespace Agentry.Distributed.Tests.Cases;

/// Case 2 of the six (docs/cases/code-review.md) with every service a process of its own over
/// RabbitMQ: a GitHub-signed pull_request webhook reaches the Gateway, the scripted model (over HTTP
/// from the Planner's process) reviews pull request #1 of the sample forge while the ToolExecutor
/// runs pyflakes and the tests in its sandbox, and the fix lands on the forge as a branch, a pull
/// request and a review with inline comments.
[NonParallelizable]
public sealed class When_the_code_review_case_runs_across_processes
{
    private const string Secret = "a-github-signing-secret-for-the-distributed-test";

    [Test]
    public async Task Should_review_a_signed_new_pull_request_and_open_the_fix_on_the_forge()
    {
        var folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "agentry-code-review", Guid.NewGuid().ToString("N"))).FullName;
        var forge = Path.Combine(folder, "forge");
        using var fake = OpenAiFake.Start();
        CodeReviewScenario.Script(fake);
        try
        {
            await using var deployment = await Deployment.StartAsync(new Dictionary<string, string>
            {
                ["Tools__Forge__Root"] = forge,
                ["Tools__Files__Root"] = Path.Combine(folder, "workspaces"),
                ["Triggers__Secrets__github_code_review"] = Secret,
                ["Llm__DefaultProvider"] = "scripted",
                ["Llm__Providers__scripted__Kind"] = "openai-compatible",
                ["Llm__Providers__scripted__Endpoint"] = fake.BaseUrl.ToString(),
                ["Llm__Providers__scripted__MaxRetries"] = "0",
                ["Llm__Prices__gpt-4o-mini__InputPerMillion"] = "150",
                ["Llm__Prices__gpt-4o-mini__OutputPerMillion"] = "600",
                // The response cache lives in the shared Redis and outlives a test: an earlier run of
                // this test would answer from it instead of the script.
                ["Llm__Cache__KeyPrefix"] = $"agentry-test:{Guid.NewGuid():N}:llm-cache:",
            });
            await using var outcomes = await RunOutcomes.StartAsync(deployment.AmqpUrl);
            using var gateway = await deployment.GatewayClientAsync();
            using var github = new HttpClient { BaseAddress = deployment.Get("Gateway").BaseAddress };

            using (var closed = await DeliverAsync(github, Guid.NewGuid().ToString(), "closed"))
            {
                Assert.That(await closed.Content.ReadAsStringAsync(), Does.Contain("ignored").And.Contain("filtered out"), "a closed pull request starts no review");
            }

            var delivery = Guid.NewGuid().ToString();
            using var accepted = await DeliverAsync(github, delivery, "opened");
            Assert.That(accepted.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await accepted.Content.ReadAsStringAsync() + deployment.Logs);
            var runId = TriggeredRuns.RunIdOf("code-review", "new-pull-request", delivery);

            var (type, message) = await outcomes.WaitAsync(runId, TimeSpan.FromSeconds(120), () => deployment.Logs);
            Assert.That(type, Is.EqualTo("RunCompleted"), message.ToString());
            Assert.That(message.GetProperty("answer").GetString(), Does.StartWith("Opened pull request #2 (fix/pr-1) fixing #1"));
            Assert.That(fake.Requests[0].Body, Does.Contain("Review pull request #1 of acme/pricing: Bulk discount for large orders"), "the trigger's goal reached the model");
            CodeReviewScenario.AssertTheModelSawTheAnalyserAndTheTests(fake.Requests, deployment.Logs);
            await CodeReviewScenario.AssertTheFixIsOpenAsync(forge, runId);

            // The trace the Gateway shows: eight steps, the analyser and the tests run at once, the
            // costs of every model call (as in the embedded test: 1270 in, 115 out, $0.2595).
            var run = await Eventually.RunAsync(gateway, runId, r => r.Status == RunStatus.Completed && r.TotalCost is not null, "the completed run");
            Assert.That((run.Trigger, run.Origin?.DeliveryId), Is.EqualTo(((TriggerKind?)TriggerKind.Webhook, delivery)));
            Assert.That(run.Steps.Select(s => string.Join("+", s.ToolCalls.Select(c => c.Tool))), Is.EqualTo(new[]
            {
                "forge_pull_request+forge_checkout", "run_shell+run_shell", "write_file", "run_shell", "write_file", "run_shell", "forge_open_fix", "",
            }));
            Assert.That((run.Usage, run.TotalCost), Is.EqualTo(((TokenUsage?)new TokenUsage(1270, 115), (decimal?)0.2595m)));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    private static Task<HttpResponseMessage> DeliverAsync(HttpClient github, string delivery, string action)
    {
        var body = $$$"""{"action":"{{{action}}}","number":1,"pull_request":{"number":1,"title":"Bulk discount for large orders","head":{"ref":"feature/bulk-discount"},"base":{"ref":"main"}},"repository":{"full_name":"acme/pricing"}}""";
        var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/code-review/new-pull-request") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-GitHub-Event", "pull_request");
        request.Headers.Add("X-GitHub-Delivery", delivery);
        request.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(body))));
        return github.SendAsync(request);
    }
}
