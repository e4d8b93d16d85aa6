using System.Text;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Tests;
using RabbitMQ.Client;
using StackExchange.Redis;

namespace Agentry.Distributed.Tests;

/// A Planner process on RabbitMQ and Redis meets a message or a run state of a schema version it
/// does not read: the message goes to the error queue at once (no retries) and the run ends with a
/// reason that names the version; a goal published without a version header is read as current.
[NonParallelizable]
public sealed class When_a_version_is_not_read
{
    private const string ErrorQueue = "agent-run-state_error";

    private Deployment _deployment = null!;
    private RunOutcomes _outcomes = null!;
    private ConnectionMultiplexer _redis = null!;
    private IConnection _connection = null!;
    private IChannel _channel = null!;

    [OneTimeSetUp]
    public async Task StartPlanner()
    {
        _deployment = await Deployment.StartAsync(extra: null, "Planner");
        _outcomes = await RunOutcomes.StartAsync(_deployment.AmqpUrl);
        _redis = await ConnectionMultiplexer.ConnectAsync(TestServers.RequireRedis());
        _connection = await new ConnectionFactory { Uri = new Uri(_deployment.AmqpUrl) }.CreateConnectionAsync();
        _channel = await _connection.CreateChannelAsync();
    }

    [OneTimeTearDown]
    public async Task StopPlanner()
    {
        if (_channel is not null)
        {
            await _channel.DisposeAsync();
            await _connection.DisposeAsync();
        }

        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        if (_outcomes is not null)
        {
            await _outcomes.DisposeAsync();
        }

        if (_deployment is not null)
        {
            await _deployment.DisposeAsync();
        }
    }

    private RedisKey RunKey(Guid runId) => $"{_deployment.Environment["Planner__Redis__KeyPrefix"]}saga:agentrun:{runId:D}";

    private Task PublishGoal(Guid runId, IReadOnlyDictionary<string, object?>? headers = null) =>
        RawRabbitMq.PublishAsync(_deployment.AmqpUrl, RawRabbitMq.GoalExchange, nameof(GoalReceived),
            JsonSerializer.Serialize(new { runId, tenantId = "default", agent = "assistant", goal = "What is 2 + 3?" }), headers);

    private async Task<string> StoredState(Guid runId) =>
        await Eventually.Until(async () => (string?)await _redis.GetDatabase().HashGetAsync(RunKey(runId), "data"), $"run {runId} stored in Redis{Environment.NewLine}{_deployment.Logs}");

    /// The error queue's message of the run, with the reason MassTransit wrote beside it.
    private sealed record ErrorMessage(string Body, string Fault, long Retries);

    private async Task<ErrorMessage> ErrorOf(Guid runId) =>
        await Eventually.Until(async () =>
        {
            while (await _channel.BasicGetAsync(ErrorQueue, autoAck: true) is { } delivery)
            {
                var body = Encoding.UTF8.GetString(delivery.Body.Span);
                if (body.Contains(runId.ToString(), StringComparison.OrdinalIgnoreCase))
                {
                    var headers = delivery.BasicProperties.Headers ?? new Dictionary<string, object?>();
                    var fault = headers.TryGetValue("MT-Fault-Message", out var message) && message is byte[] bytes ? Encoding.UTF8.GetString(bytes) : "";
                    var retries = headers.TryGetValue("MT-Fault-RetryCount", out var count) && count is not null ? Convert.ToInt64(count, System.Globalization.CultureInfo.InvariantCulture) : 0;
                    return new ErrorMessage(body, fault, retries);
                }
            }

            return (ErrorMessage?)null;
        }, $"the message of run {runId} in {ErrorQueue}");

    [Test]
    public async Task Should_start_a_run_from_a_goal_published_without_a_version_header_and_send_its_messages_with_theirs()
    {
        var runId = Guid.NewGuid();
        // Where Memory would read the run's first context request.
        const string exchange = "Agentry.Contracts:ContextRequested";
        await _channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false);
        var queue = (await _channel.QueueDeclareAsync(queue: "", durable: false, exclusive: true, autoDelete: true)).QueueName;
        await _channel.QueueBindAsync(queue, exchange, routingKey: "");

        await PublishGoal(runId);

        var state = JsonDocument.Parse(await StoredState(runId)).RootElement;
        Assert.That((state.GetProperty("SchemaVersion").GetInt32(), state.GetProperty("CurrentState").GetString()), Is.EqualTo((1, "LoadingContext")));
        var request = await Eventually.Until(async () => await _channel.BasicGetAsync(queue, autoAck: true), "the run's ContextRequested");
        Assert.That(request.BasicProperties.Headers?[ContractVersions.Header], Is.EqualTo(ContractVersions.Of(typeof(ContextRequested))), "the version header of a message the Planner published");
    }

    [Test]
    public async Task Should_send_a_message_of_an_unknown_version_to_the_error_queue_and_end_its_run_with_the_reason()
    {
        var runId = Guid.NewGuid();

        await PublishGoal(runId, new Dictionary<string, object?> { [ContractVersions.Header] = 99 });

        var (type, ended) = await _outcomes.WaitAsync(runId, TimeSpan.FromSeconds(30), () => _deployment.Logs);
        TestContext.Out.WriteLine(ended.ToString());
        Assert.That(type, Is.EqualTo(nameof(RunFailed)));
        Assert.That(ended.GetProperty("reason").GetString(), Does.Contain("GoalReceived").And.Contain("schema version 99").And.Contain("reads version 1").And.Contain(ErrorQueue));
        var error = await ErrorOf(runId);
        Assert.That(error.Retries, Is.Zero, "a version it does not read was retried");
        Assert.That(error.Fault, Does.Contain("schema version 99"));
    }

    [Test]
    public async Task Should_end_a_run_whose_state_is_of_an_unknown_version_with_the_reason_and_keep_the_state()
    {
        var runId = Guid.NewGuid();
        await PublishGoal(runId);
        var stored = await StoredState(runId);
        var newer = stored.Replace("\"SchemaVersion\":1", "\"SchemaVersion\":99", StringComparison.Ordinal);
        Assert.That(newer, Is.Not.EqualTo(stored), stored);
        await _redis.GetDatabase().HashSetAsync(RunKey(runId), "data", newer);

        await RawRabbitMq.PublishAsync(_deployment.AmqpUrl, "Agentry.Contracts:CancelRun", nameof(CancelRun),
            JsonSerializer.Serialize(new { runId, tenantId = "default", reason = "no longer needed" }));

        var (type, ended) = await _outcomes.WaitAsync(runId, TimeSpan.FromSeconds(30), () => _deployment.Logs);
        TestContext.Out.WriteLine(ended.ToString());
        Assert.That(type, Is.EqualTo(nameof(RunFailed)));
        Assert.That(ended.GetProperty("reason").GetString(),
            Does.Contain("CancelRun").And.Contain($"AgentRunState {runId}").And.Contain("schema version 99").And.Contain("versions 1, 2").And.Contain(ErrorQueue));
        var error = await ErrorOf(runId);
        Assert.That(error.Retries, Is.Zero, "a state it does not read was retried");
        Assert.That(error.Body, Does.Contain("no longer needed"));
        // Nothing was written over the state: a build that reads it finds it as it was.
        Assert.That((string?)await _redis.GetDatabase().HashGetAsync(RunKey(runId), "data"), Is.EqualTo(newer));
    }
}
