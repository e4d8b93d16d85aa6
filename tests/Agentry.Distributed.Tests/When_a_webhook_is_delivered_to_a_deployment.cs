using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Agentry.Gateway.Stores.Sqlite;
using Agentry.Gateway.Triggers;
using Agentry.Gateway.Triggers.Webhooks;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Agentry.Distributed.Tests;

/// A GitHub webhook delivered three times (as GitHub redelivers) to the Gateway's own process, every
/// service in a process of its own over RabbitMQ and Redis: one run starts, on every service it
/// completes, and it records the webhook and the delivery that started it.
[NonParallelizable]
public sealed class When_a_webhook_is_delivered_to_a_deployment
{
    private const string Secret = "a-github-webhook-secret-for-the-distributed-test";

    [Test]
    public async Task Should_start_one_run_that_completes_and_records_its_origin_for_three_deliveries()
    {
        var agents = Directory.CreateTempSubdirectory("agentry-agents-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(agents, "reviewer.yaml"), """
                description: Answers the sums that webhooks send it.
                instructions: Use the calculator.
                tools: [calculator]
                limits:
                  max_steps: 4
                  deadline: 2m
                triggers:
                  - name: pull-request
                    webhook: github
                    secret: github_reviewer
                    filter:
                      action: opened
                    goal: "What is {{pull_request.number}} + 1?"
                """);
            await using var deployment = await Deployment.StartAsync(new Dictionary<string, string>
            {
                ["Agents__Path"] = agents,
                ["Triggers__Secrets__github_reviewer"] = Secret,
            });
            await using var outcomes = await RunOutcomes.StartAsync(deployment.AmqpUrl);
            await using var goals = await GoalsPublished.StartAsync(deployment.AmqpUrl);
            using var sender = new HttpClient { BaseAddress = deployment.Get("Gateway").BaseAddress };
            var delivery = Guid.NewGuid().ToString();
            const string body = """{"action":"opened","pull_request":{"number":99,"title":"Deliver once"}}""";
            var runId = TriggeredRuns.RunIdOf("reviewer", "pull-request", delivery);

            var statuses = new List<(HttpStatusCode, string?, Guid?)>();
            for (var i = 0; i < 3; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/reviewer/pull-request") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                request.Headers.Add("X-GitHub-Delivery", delivery);
                request.Headers.Add("X-GitHub-Event", "pull_request");
                request.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(body))));
                using var response = await sender.SendAsync(request);
                var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
                statuses.Add((response.StatusCode, answer.GetProperty("status").GetString(), answer.GetProperty("runId").GetGuid()));
            }

            Assert.That(statuses, Is.EqualTo(new[]
            {
                (HttpStatusCode.Accepted, "started", (Guid?)runId),
                (HttpStatusCode.OK, "duplicate", (Guid?)runId),
                (HttpStatusCode.OK, "duplicate", (Guid?)runId),
            }), deployment.Logs);

            var (type, _) = await outcomes.WaitAsync(runId, TimeSpan.FromSeconds(90), () => deployment.Logs);
            Assert.That(type, Is.EqualTo("RunCompleted"));

            using var http = await deployment.GatewayClientAsync();
            // Memory records the end on its own queue, in parallel with this test's: read until it has.
            var run = await http.GetFromJsonAsync<JsonElement>($"/runs/{runId}");
            for (var attempt = 0; run.GetProperty("status").GetString() == "Running" && attempt < 200; attempt++)
            {
                await Task.Delay(50);
                run = await http.GetFromJsonAsync<JsonElement>($"/runs/{runId}");
            }

            Assert.That((run.GetProperty("status").GetString(), run.GetProperty("answer").GetString(), run.GetProperty("trigger").GetString()), Is.EqualTo(("Completed", "100", "Webhook")));
            var origin = run.GetProperty("origin");
            Assert.That((origin.GetProperty("name").GetString(), origin.GetProperty("source").GetString(), origin.GetProperty("deliveryId").GetString()),
                Is.EqualTo(("pull-request", "github", delivery)));
            Assert.That(goals.Of(runId), Is.EqualTo(1), "the goal was published once for three deliveries");

            // The inbox is the deployment's own file: one delivery, started, with two duplicates.
            var inbox = new SqliteWebhookInbox(deployment.Environment["ConnectionStrings__sqlite"]);
            var recorded = (await inbox.ListAsync("default", "reviewer", "pull-request", 10, CancellationToken.None)).Single();
            Assert.That((recorded.State, recorded.RunId, recorded.Duplicates), Is.EqualTo((WebhookDeliveryState.Started, (Guid?)runId, 2)));
        }
        finally
        {
            Directory.Delete(agents, recursive: true);
        }
    }

    /// Counts each GoalReceived on the goal exchange, as an upstream system bound to it would see them.
    private sealed class GoalsPublished : IAsyncDisposable
    {
        private readonly ConcurrentDictionary<Guid, int> _counts = new();
        private IConnection _connection = null!;
        private IChannel _channel = null!;

        public static async Task<GoalsPublished> StartAsync(string amqpUrl)
        {
            var goals = new GoalsPublished();
            goals._connection = await new ConnectionFactory { Uri = new Uri(amqpUrl) }.CreateConnectionAsync();
            goals._channel = await goals._connection.CreateChannelAsync();
            var queue = await goals._channel.QueueDeclareAsync(queue: "", durable: false, exclusive: true, autoDelete: true);
            await goals._channel.ExchangeDeclareAsync(RawRabbitMq.GoalExchange, ExchangeType.Fanout, durable: true, autoDelete: false);
            await goals._channel.QueueBindAsync(queue.QueueName, RawRabbitMq.GoalExchange, routingKey: "");
            var consumer = new AsyncEventingBasicConsumer(goals._channel);
            consumer.ReceivedAsync += (_, delivery) =>
            {
                using var document = JsonDocument.Parse(delivery.Body);
                goals._counts.AddOrUpdate(document.RootElement.GetProperty("message").GetProperty("runId").GetGuid(), 1, (_, count) => count + 1);
                return Task.CompletedTask;
            };
            await goals._channel.BasicConsumeAsync(queue.QueueName, autoAck: true, consumer);
            return goals;
        }

        public int Of(Guid runId) => _counts.GetValueOrDefault(runId);

        public async ValueTask DisposeAsync()
        {
            await _channel.DisposeAsync();
            await _connection.DisposeAsync();
        }
    }
}
