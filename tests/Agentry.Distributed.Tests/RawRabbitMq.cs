using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Agentry.Distributed.Tests;

/// What a non-.NET upstream system does: plain RabbitMQ, plain JSON, no MassTransit.
/// The exchange and header names are the ones docs/integration.md documents.
public static class RawRabbitMq
{
    public const string GoalExchange = "Agentry.Contracts:GoalReceived";
    public static readonly string[] OutcomeExchanges =
        ["Agentry.Contracts:RunCompleted", "Agentry.Contracts:RunFailed", "Agentry.Contracts:RunEscalated", "Agentry.Contracts:RunCancelled"];

    public static async Task PublishAsync(string amqpUrl, string exchange, string messageType, string json, IReadOnlyDictionary<string, object?>? headers = null)
    {
        var factory = new ConnectionFactory { Uri = new Uri(amqpUrl) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false);
        var properties = new BasicProperties
        {
            ContentType = "application/json",
            DeliveryMode = DeliveryModes.Persistent,
            MessageId = Guid.NewGuid().ToString(),
            Headers = new Dictionary<string, object?>(headers ?? new Dictionary<string, object?>()) { ["MT-MessageType"] = $"urn:message:Agentry.Contracts:{messageType}" },
        };
        await channel.BasicPublishAsync(exchange, routingKey: "", mandatory: false, properties, Encoding.UTF8.GetBytes(json));
    }

    public static Task PublishGoalAsync(string amqpUrl, Guid runId, string agent, string goal, string tenantId = "default") =>
        PublishAsync(amqpUrl, GoalExchange, "GoalReceived", JsonSerializer.Serialize(new { runId, tenantId, agent, goal }));
}

/// Follows the ends of runs by binding a queue of its own to the outcome exchanges, as an
/// upstream system that consumes results would.
public sealed class RunOutcomes : IAsyncDisposable
{
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<(string Type, JsonElement Message)>> _runs = new();
    private IConnection _connection = null!;
    private IChannel _channel = null!;

    public static async Task<RunOutcomes> StartAsync(string amqpUrl)
    {
        var outcomes = new RunOutcomes();
        var factory = new ConnectionFactory { Uri = new Uri(amqpUrl) };
        outcomes._connection = await factory.CreateConnectionAsync();
        outcomes._channel = await outcomes._connection.CreateChannelAsync();
        var queue = await outcomes._channel.QueueDeclareAsync(queue: "", durable: false, exclusive: true, autoDelete: true);
        foreach (var exchange in RawRabbitMq.OutcomeExchanges)
        {
            await outcomes._channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false);
            await outcomes._channel.QueueBindAsync(queue.QueueName, exchange, routingKey: "");
        }

        var consumer = new AsyncEventingBasicConsumer(outcomes._channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            using var document = JsonDocument.Parse(delivery.Body);
            var message = document.RootElement.GetProperty("message").Clone();
            var type = document.RootElement.GetProperty("messageType")[0].GetString()!.Split(':').Last();
            var runId = message.GetProperty("runId").GetGuid();
            outcomes.For(runId).TrySetResult((type, message));
            return Task.CompletedTask;
        };
        await outcomes._channel.BasicConsumeAsync(queue.QueueName, autoAck: true, consumer);
        return outcomes;
    }

    public async Task<(string Type, JsonElement Message)> WaitAsync(Guid runId, TimeSpan timeout, Func<string>? diagnostics = null)
    {
        try
        {
            return await For(runId).Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Run {runId} did not end within {timeout.TotalSeconds}s.{Environment.NewLine}{diagnostics?.Invoke()}");
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _channel.DisposeAsync();
        await _connection.DisposeAsync();
    }

    private TaskCompletionSource<(string, JsonElement)> For(Guid runId) =>
        _runs.GetOrAdd(runId, _ => new TaskCompletionSource<(string, JsonElement)>(TaskCreationOptions.RunContinuationsAsynchronously));
}
