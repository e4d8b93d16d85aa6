using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Gateway.Triggers;
using Agentry.Gateway.Triggers.Events;
using Agentry.Tests;
using RabbitMQ.Client;

namespace Agentry.Distributed.Tests;

/// An agent subscribed to an upstream system's own events (its exchange, its routing key, its JSON,
/// no Agentry message type): the six services as processes on RabbitMQ and Redis, the event published
/// as a plain AMQP client would publish it.
[NonParallelizable]
public sealed class When_an_upstream_system_publishes_its_own_events
{
    private const string Agent = "order-watch";
    private const string Trigger = "order-delayed";
    private const string Exchange = "shop.orders";

    private static readonly string Definition = $$$"""
        description: Works out how late a delayed order is.
        instructions: Use the calculator for any arithmetic. Answer briefly.
        tools: [calculator]
        limits: { max_steps: 4, deadline: 1m }
        triggers:
          - name: {{{Trigger}}}
            event: { exchange: {{{Exchange}}}, routing_key: order.delayed }
            filter: { status: delayed }
            goal: "Order {{order.id}} is late: what is {{order.days_late}} * 24?"
            input: { order: "{{order.id}}", days: "{{order.days_late}}", customer: "{{customer.name}}" }
        """;

    private string _agents = null!;
    private Deployment _deployment = null!;
    private RunOutcomes _outcomes = null!;
    private IConnection _connection = null!;
    private IChannel _channel = null!;

    private static string Queue => EventSubscriptions.QueueOf(Agent, Trigger);

    [OneTimeSetUp]
    public async Task StartDeployment()
    {
        _agents = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "agentry-distributed", $"agents-{Guid.NewGuid():N}")).FullName;
        await File.WriteAllTextAsync(Path.Combine(_agents, $"{Agent}.yaml"), Definition);
        _deployment = await Deployment.StartAsync(new Dictionary<string, string> { ["Agents__Path"] = _agents });
        _outcomes = await RunOutcomes.StartAsync(_deployment.AmqpUrl);
        _connection = await new ConnectionFactory { Uri = new Uri(_deployment.AmqpUrl) }.CreateConnectionAsync();
        _channel = await _connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        // The upstream system owns its exchange and declares it, as it would.
        await _channel.ExchangeDeclareAsync(Exchange, ExchangeType.Topic, durable: true, autoDelete: false);
        await Eventually.Until(async () => await ConsumersOnAsync(Queue) > 0 ? Queue : null, $"the Gateway consuming {Queue}{Environment.NewLine}{_deployment.Logs}");
    }

    [OneTimeTearDown]
    public async Task StopDeployment()
    {
        if (_channel is not null)
        {
            await _channel.DisposeAsync();
            await _connection.DisposeAsync();
        }

        if (_outcomes is not null)
        {
            await _outcomes.DisposeAsync();
        }

        if (_deployment is not null)
        {
            await _deployment.DisposeAsync();
        }

        if (_agents is not null)
        {
            Directory.Delete(_agents, recursive: true);
        }
    }

    [Test]
    public async Task Should_start_a_run_with_the_mapped_goal_once_however_often_the_event_is_published()
    {
        // An upstream's own id, not a UUID, as docs/triggers.md publishes it.
        var eventId = $"evt-{Random.Shared.Next(100_000, 999_999)}";
        var runId = TriggeredRuns.RunIdOf(Agent, Trigger, eventId);
        var orderId = $"A-{Random.Shared.Next(1000, 9999)}";
        var json = JsonSerializer.Serialize(new { status = "delayed", order = new { id = orderId, days_late = 3 }, customer = new { name = "Ada" } });

        await PublishAsync("order.delayed", json, eventId);
        await PublishAsync("order.delayed", json, eventId);

        var (type, message) = await _outcomes.WaitAsync(runId, TimeSpan.FromSeconds(60), () => _deployment.Logs);
        Assert.That(type, Is.EqualTo(nameof(RunCompleted)), message.ToString());
        Assert.That(message.GetProperty("answer").GetString(), Does.Contain("72"));

        using var gateway = await _deployment.GatewayClientAsync();
        var run = await Eventually.Until(
            async () => await gateway.GetFromJsonAsync<RunView>($"/runs/{runId}") is { Status: RunStatus.Completed } view ? view : null,
            $"run {runId} recorded as completed");
        Assert.Multiple(() =>
        {
            Assert.That(run!.Goal, Is.EqualTo($"Order {orderId} is late: what is 3 * 24?"));
            Assert.That(run.Trigger, Is.EqualTo(TriggerKind.Event));
            Assert.That(run.Origin, Is.EqualTo(new TriggerOrigin(Trigger, $"{Exchange} order.delayed", eventId)));
            Assert.That(run.Steps, Has.Count.LessThanOrEqualTo(4));
        });
        // The second publish named the same run, which the saga did not start again: one step 1.
        Assert.That(run.Steps.Select(s => s.Step), Is.Unique);
    }

    [Test]
    public async Task Should_send_an_event_that_cannot_become_a_run_to_the_error_queue_with_the_reason()
    {
        var unmappable = JsonSerializer.Serialize(new { status = "delayed", order = new { days_late = 3 }, customer = new { name = "Bo" } });
        var unmappableId = Guid.NewGuid().ToString();
        await PublishAsync("order.delayed", unmappable, unmappableId);
        var notJson = Guid.NewGuid().ToString();
        await PublishAsync("order.delayed", "order 17 is late <xml/>", notJson);

        var reasons = new Dictionary<string, string>();
        await Eventually.Until(async () =>
        {
            // MassTransit declares the error queue with the first fault; reading it before then is refused.
            await ReadAsync(async channel =>
            {
                while (await channel.BasicGetAsync($"{Queue}_error", autoAck: true) is { } faulted)
                {
                    reasons[faulted.BasicProperties.MessageId ?? ""] = Encoding.UTF8.GetString((byte[])faulted.BasicProperties.Headers!["MT-Fault-Message"]!);
                }

                return true;
            }, false);

            return reasons.ContainsKey(unmappableId) && reasons.ContainsKey(notJson) ? reasons : null;
        }, $"both events in {Queue}_error{Environment.NewLine}{_deployment.Logs}");

        Assert.Multiple(() =>
        {
            Assert.That(reasons[unmappableId], Does.Contain("no value at 'order.id'"));
            Assert.That(reasons[notJson], Is.Not.Empty);
        });
        Assert.That(await RunExistsAsync(TriggeredRuns.RunIdOf(Agent, Trigger, unmappableId)), Is.False, "an unmappable event started a run");
    }

    [Test]
    public async Task Should_start_nothing_for_an_event_the_filter_leaves_out_or_another_routing_key()
    {
        var onTime = Guid.NewGuid().ToString();
        await PublishAsync("order.delayed", JsonSerializer.Serialize(new { status = "on-time", order = new { id = "B-1", days_late = 0 } }), onTime);
        var shipped = Guid.NewGuid().ToString();
        await PublishAsync("order.shipped", JsonSerializer.Serialize(new { status = "delayed", order = new { id = "B-2", days_late = 1 } }), shipped);
        // A later event that does start a run: once it has, the earlier ones were consumed (one queue, in order).
        var marker = Guid.NewGuid().ToString();
        await PublishAsync("order.delayed", JsonSerializer.Serialize(new { status = "delayed", order = new { id = "B-3", days_late = 1 }, customer = new { name = "Cy" } }), marker);
        await _outcomes.WaitAsync(TriggeredRuns.RunIdOf(Agent, Trigger, marker), TimeSpan.FromSeconds(60), () => _deployment.Logs);

        Assert.Multiple(async () =>
        {
            Assert.That(await RunExistsAsync(TriggeredRuns.RunIdOf(Agent, Trigger, onTime)), Is.False, "a filtered-out event started a run");
            Assert.That(await RunExistsAsync(TriggeredRuns.RunIdOf(Agent, Trigger, shipped)), Is.False, "an event of another routing key started a run");
        });
    }

    private async Task<bool> RunExistsAsync(Guid runId)
    {
        using var gateway = await _deployment.GatewayClientAsync();
        return (await gateway.GetAsync($"/runs/{runId}")).IsSuccessStatusCode;
    }

    private async Task PublishAsync(string routingKey, string body, string messageId) =>
        await _channel.BasicPublishAsync(Exchange, routingKey, mandatory: false,
            new BasicProperties { ContentType = "application/json", DeliveryMode = DeliveryModes.Persistent, MessageId = messageId },
            Encoding.UTF8.GetBytes(body));

    private Task<uint> ConsumersOnAsync(string queue) =>
        ReadAsync(async channel => (await channel.QueueDeclarePassiveAsync(queue)).ConsumerCount, 0u);

    /// Reads on a connection of its own, never the publisher's: a queue that does not exist yet closes
    /// the channel (404), and one whose queue process is still starting closes the whole connection
    /// (541 noproc, seen in CI), which took the publishing channel and the tests after it down.
    private async Task<T> ReadAsync<T>(Func<IChannel, Task<T>> read, T whenRefused)
    {
        try
        {
            await using var connection = await new ConnectionFactory { Uri = new Uri(_deployment.AmqpUrl) }.CreateConnectionAsync();
            await using var channel = await connection.CreateChannelAsync();
            return await read(channel);
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            return whenRefused;
        }
    }
}
