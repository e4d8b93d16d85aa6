using System.Collections.Concurrent;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Notifier;
using Agentry.Agents;
using MassTransit;
using MassTransit.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace Agentry.Tests.Notifier;

/// Slack (a local HTTP server) and email (a real SMTP listener) beside the webhook: every channel is
/// delivered on its own, a failing one is retried and faults alone, and no secret reaches the log.
public sealed class When_a_notification_goes_to_its_channels : HarnessFixture
{
    private const string SlackPath = "/services/T000/B000/s3cr3t-token";
    private const string PasswordVariable = "AGENTRY_TEST_SMTP_PASSWORD";
    private const string Password = "smtp-pa55word";

    // One attempt and the six retries of the endpoint's policy.
    private const int Attempts = 7;

    private WebApplication _http = null!;
    private Uri _base = null!;
    private TestSmtpServer _smtp = null!;
    private readonly ConcurrentQueue<JsonElement> _slack = new();
    private readonly ConcurrentQueue<JsonElement> _webhook = new();
    private TaskCompletionSource _slackReceived = null!;
    private TaskCompletionSource _webhookExhausted = null!;
    private TaskCompletionSource _slackExhausted = null!;
    private TaskCompletionSource<MimeMessage> _mailReceived = null!;
    private int _webhookStatus;
    private int _slackStatus;
    private readonly CollectingLogger _log = new();

    protected override AgentCatalog Agents => TestAgents.Catalog(
        TestAgents.Parse("support", $"""
            instructions: Help customers.
            notify:
              webhook: {new Uri(_base, "/hook")}
              slack: {new Uri(_base, SlackPath)}
              email: [oncall@example.com, lead@example.com]
            """),
        TestAgents.Parse("chatty", $"""
            instructions: Help customers.
            notify:
              slack: {new Uri(_base, SlackPath)}
            """));

    [OneTimeSetUp]
    public async Task StartPeers()
    {
        Environment.SetEnvironmentVariable(PasswordVariable, Password);
        _smtp = await TestSmtpServer.StartAsync();
        _smtp.Received += message => _mailReceived.TrySetResult(message);
        (_http, _base) = await LocalHttpServer.StartAsync(app =>
        {
            app.MapPost(SlackPath, async (HttpRequest request) =>
            {
                _slack.Enqueue((await JsonDocument.ParseAsync(request.Body)).RootElement.Clone());
                _slackReceived.TrySetResult();
                if (_slack.Count >= Attempts)
                {
                    _slackExhausted.TrySetResult();
                }

                return _slackStatus == 200 ? Results.Text("ok") : Results.Text("invalid_payload", statusCode: _slackStatus);
            });
            app.MapPost("/hook", async (HttpRequest request) =>
            {
                _webhook.Enqueue((await JsonDocument.ParseAsync(request.Body)).RootElement.Clone());
                if (_webhook.Count >= Attempts)
                {
                    _webhookExhausted.TrySetResult();
                }

                return Results.StatusCode(_webhookStatus);
            });
        });
    }

    [OneTimeTearDown]
    public async Task StopPeers()
    {
        await _http.DisposeAsync();
        await _smtp.DisposeAsync();
        Environment.SetEnvironmentVariable(PasswordVariable, null);
    }

    [SetUp]
    public void Reset()
    {
        _slack.Clear();
        _webhook.Clear();
        _smtp.Messages.Clear();
        _smtp.Logins.Clear();
        _log.Lines.Clear();
        _slackReceived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _webhookExhausted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _slackExhausted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _mailReceived = new TaskCompletionSource<MimeMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        _webhookStatus = 204;
        _slackStatus = 200;
    }

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:PublicUrl"] = "https://agentry.example.com/",
            ["Notifier:Smtp:Host"] = "127.0.0.1",
            ["Notifier:Smtp:Port"] = _smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Notifier:Smtp:From"] = "Agentry <agentry@example.com>",
            ["Notifier:Smtp:UserName"] = "agentry",
            ["Notifier:Smtp:PasswordEnv"] = PasswordVariable,
            ["Notifier:Smtp:StartTls"] = "false",
        }).Build());
        services.AddLogging(logging => logging.AddProvider(_log));
        services.AddNotifier();
    }

    protected override void ConfigureBus(IBusRegistrationConfigurator bus) => bus.AddNotifierConsumers();

    [Test]
    public async Task Should_post_the_outcome_to_slack_with_text_blocks_and_the_runs_link()
    {
        var runId = NewId.NextGuid();

        await Harness.Bus.Publish(new RunFailed(runId, "tenant-a", "chatty", "Step limit reached: 8 steps taken without a final answer.", 8, TokenUsage.None, TimeSpan.FromSeconds(3)));
        await _slackReceived.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var message = _slack.Single();
        var link = $"https://agentry.example.com/runs/{runId}";
        Assert.That(message.GetProperty("text").GetString(), Is.EqualTo($"Run of chatty failed: {link}"));
        var blocks = message.GetProperty("blocks").EnumerateArray().ToList();
        Assert.That(blocks.Select(b => b.GetProperty("type").GetString()), Is.EqualTo(new[] { "header", "section", "section" }));
        Assert.That(blocks[0].GetProperty("text").GetProperty("text").GetString(), Is.EqualTo("Run of chatty failed"));
        Assert.That(blocks[1].GetProperty("text").GetProperty("text").GetString(), Is.EqualTo("Step limit reached: 8 steps taken without a final answer."));
        Assert.That(blocks[2].GetProperty("text").GetProperty("text").GetString(), Is.EqualTo($"<{link}|Open the run>"));
    }

    [Test]
    public async Task Should_mail_the_outcome_through_the_smtp_server_with_subject_body_and_link()
    {
        var runId = NewId.NextGuid();

        await Harness.Bus.Publish(new RunCompleted(runId, "tenant-a", "support", "Refund of order 42 issued.", 3, TokenUsage.None, TimeSpan.FromSeconds(2)));
        var mail = await _mailReceived.Task.WaitAsync(TimeSpan.FromSeconds(15));

        Assert.That(mail.Subject, Is.EqualTo("Run of support completed"));
        Assert.That(mail.TextBody, Does.Contain("Refund of order 42 issued.").And.Contain($"https://agentry.example.com/runs/{runId}"));
        Assert.That(mail.To.Mailboxes.Select(m => m.Address), Is.EqualTo(new[] { "oncall@example.com", "lead@example.com" }));
        Assert.That(mail.From.Mailboxes.Single().Address, Is.EqualTo("agentry@example.com"));
        Assert.That(_smtp.Logins.Single(), Is.EqualTo(("agentry", Password)), "the password came from the environment variable PasswordEnv names");
    }

    [Test]
    public async Task Should_deliver_the_other_channels_once_while_a_failing_one_is_retried_then_faults()
    {
        _webhookStatus = 503;
        var runId = NewId.NextGuid();
        var fault = await FaultOf(runId, "webhook");

        await Harness.Bus.Publish(new RunCancelled(runId, "tenant-a", "support", "Cancelled through the API.", 1, TokenUsage.None, TimeSpan.Zero));

        // The retries wait up to 2 s between attempts, longer than the harness' inactivity timeout.
        await _webhookExhausted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await fault.WaitAsync(TimeSpan.FromSeconds(10));
        await Quiet();
        Assert.That(PublishedMessages<Fault<DeliverNotification>>().Select(f => f.Message.Channel), Is.EqualTo(new[] { "webhook" }));
        Assert.That(_webhook, Has.Count.EqualTo(7), "one attempt and six retries");
        Assert.That(_slack, Has.Count.EqualTo(1), "Slack was delivered once, not again with each webhook retry");
        Assert.That(_smtp.Messages, Has.Count.EqualTo(1));
        Assert.That(_log.Lines.Count(l => l.Contains("could not be delivered (webhook", StringComparison.Ordinal) && l.Contains("answered 503", StringComparison.Ordinal)), Is.EqualTo(7), string.Join(Environment.NewLine, _log.Lines));
    }

    [Test]
    public async Task Should_keep_the_slack_token_and_the_smtp_password_out_of_the_log()
    {
        _slackStatus = 400;
        var runId = NewId.NextGuid();
        var fault = await FaultOf(runId, "slack");

        await Harness.Bus.Publish(new RunCompleted(runId, "tenant-a", "support", "ok", 1, TokenUsage.None, TimeSpan.Zero));

        await _slackExhausted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await fault.WaitAsync(TimeSpan.FromSeconds(10));
        await Quiet();
        Assert.That(_log.Lines.Any(l => l.Contains("Slack webhook at 127.0.0.1", StringComparison.Ordinal) && l.Contains("invalid_payload", StringComparison.Ordinal)), Is.True,
            "the failure says which channel and why: " + string.Join(Environment.NewLine, _log.Lines));
        Assert.That(_log.Lines.Where(l => l.Contains("s3cr3t-token", StringComparison.Ordinal) || l.Contains(Password, StringComparison.Ordinal)), Is.Empty);
        Assert.That(_smtp.Messages, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Should_let_any_kind_of_notification_use_the_agents_channels()
    {
        // What an approval request or any later notification does: the dispatcher, not a consumer of its own.
        var runId = NewId.NextGuid();
        var dispatcher = Provider.GetRequiredService<NotificationDispatcher>();

        var channels = await dispatcher.NotifyAsync(Harness.Bus, runId, "tenant-a", "support",
            new Notification("approval.requested", "Approve refund_order for run 42?", "refund_order {\"order\":42}", new Uri("https://agentry.example.com/approvals")), CancellationToken.None);

        Assert.That(channels, Is.EqualTo(new[] { "webhook", "slack", "email" }));
        var mail = await _mailReceived.Task.WaitAsync(TimeSpan.FromSeconds(15));
        await _slackReceived.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(mail.Subject, Is.EqualTo("Approve refund_order for run 42?"));
        Assert.That(_slack.Single().GetProperty("text").GetString(), Does.StartWith("Approve refund_order for run 42?"));
        await Quiet();
        var hook = _webhook.Single();
        Assert.That((hook.GetProperty("event").GetString(), hook.GetProperty("title").GetString(), hook.GetProperty("link").GetString()),
            Is.EqualTo(("approval.requested", "Approve refund_order for run 42?", "https://agentry.example.com/approvals")));
    }

    /// Completes when the delivery on the channel faults. (The harness' Published.Any can give up in
    /// the retries' 2 s pauses, which are longer than its inactivity timeout.)
    private async Task<Task> FaultOf(Guid runId, string channel)
    {
        var faulted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var endpoint = Harness.Bus.ConnectReceiveEndpoint(e => e.Handler<Fault<DeliverNotification>>(context =>
        {
            if (context.Message.Message.RunId == runId && context.Message.Message.Channel == channel)
            {
                faulted.TrySetResult();
            }

            return Task.CompletedTask;
        }));
        await endpoint.Ready;
        return faulted.Task;
    }

    private sealed class CollectingLogger : ILoggerProvider, ILogger
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Enqueue($"{logLevel}: {formatter(state, exception)} {exception}");

        public void Dispose()
        {
        }
    }
}
