using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Gateway;
using Agentry.Gateway.Security;
using Agentry.Gateway.Tracing;
using Agentry.Llm;
using Agentry.Memory;
using Agentry.ServiceDefaults;
using Agentry.Agents;
using Agentry.ServiceDefaults.Telemetry;
using MassTransit;
using Microsoft.Data.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;

namespace Agentry.Cli;

public static class ExitCodes
{
    public const int Completed = 0;
    public const int NotCompleted = 1;
    public const int BadInput = 2;
    public const int Interrupted = 130;
}

/// Settings are extra configuration entries (tests point the store at a temporary file with them).
/// Bus, when set, is the RabbitMQ of a running deployment: the CLI then starts nothing and follows the run there.
public sealed record RunOptions(
    string Goal,
    string Agent,
    string? AgentsPath,
    string? InputJson,
    bool Verbose,
    IReadOnlyDictionary<string, string?>? Settings = null,
    string? Bus = null,
    TimeSpan? Timeout = null,
    string? User = null,
    ApprovalChoice? Approvals = null);

/// The CLI's commands, apart from their parsing so tests can call them with their own writers.
public static class Commands
{
    public static async Task<int> RunAsync(RunOptions options, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        JsonElement? input = null;
        if (options.InputJson is { } json)
        {
            try
            {
                using var document = JsonDocument.Parse(json);
                input = document.RootElement.Clone();
            }
            catch (JsonException e)
            {
                await error.WriteLineAsync($"--input is not valid JSON: {e.Message}");
                return ExitCodes.BadInput;
            }
        }

        if (UserIds.Problem(options.User) is { } userProblem)
        {
            await error.WriteLineAsync($"--user: {userProblem}");
            return ExitCodes.BadInput;
        }

        var builder = CreateBuilder(options.AgentsPath, options.Verbose, options.Settings);
        if (options.Bus is not null)
        {
            builder.Configuration["ConnectionStrings:rabbitmq"] = options.Bus;
        }

        builder.Services.AddSingleton<RunWatch>();
        if (builder.Configuration.GetConnectionString("rabbitmq") is { Length: > 0 } remoteBus)
        {
            return await RunRemotelyAsync(builder, remoteBus, options, input, output, error, cancellationToken);
        }

        builder.Services.AddEmbeddedAgentry(builder.Configuration, WatchRuns);
        builder.Services.AddSingleton<RunSpans>();
        builder.Services.ConfigureOpenTelemetryTracerProvider((services, tracing) => tracing.AddProcessor(services.GetRequiredService<RunSpans>()));
        using var host = builder.Build();

        if (LoadAgents(host.Services, error) is not { } agents)
        {
            return ExitCodes.BadInput;
        }

        if (GoalValidation.Problem(agents, options.Agent, options.Goal) is { } problem)
        {
            await error.WriteLineAsync(problem);
            return ExitCodes.BadInput;
        }

        var agent = agents.Find(options.Agent)!;
        var header = new[]
        {
            $"Agentry: agent '{agent.Name}'",
            $"Model: {host.Services.GetRequiredService<ChatModelInfo>().Describe()}",
            $"Transcript: {new SqliteConnectionStringBuilder(host.Services.GetRequiredService<IOptions<MemoryOptions>>().Value.SqliteConnectionString).DataSource}",
        };
        await host.StartAsync(cancellationToken);
        try
        {
            // The saga ends the run at its deadline; the margin only guards against a process that lost its way.
            var patience = options.Timeout ?? agent.Limits.Deadline + TimeSpan.FromSeconds(30);
            return await FollowRunAsync(host.Services, agent.Name, options.Goal.Trim(), input, options.User, header, patience, options.Approvals ?? ApprovalChoice.Default, remote: false, output, cancellationToken);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    /// The runs of a deployment: nothing is hosted here but a temporary endpoint that follows the run.
    private static async Task<int> RunRemotelyAsync(
        HostApplicationBuilder builder, string bus, RunOptions options, JsonElement? input, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(options.Goal))
        {
            await error.WriteLineAsync("The goal is empty: say what the agent should do.");
            return ExitCodes.BadInput;
        }

        builder.Services.AddAgentryTelemetry(builder.Configuration, "agentry-cli");
        builder.Services.AddAgentryBus(builder.Configuration, WatchRuns);
        using var host = builder.Build();
        var where = new Uri(bus);
        var header = new[] { $"Agentry: agent '{options.Agent}', on the deployment at {where.Host}:{where.Port}{where.AbsolutePath}" };
        if (!await StartOnDeploymentAsync(host, bus, error, cancellationToken))
        {
            return ExitCodes.BadInput;
        }

        try
        {
            return await FollowRunAsync(host.Services, options.Agent, options.Goal.Trim(), input, options.User, header, options.Timeout ?? TimeSpan.FromMinutes(10), options.Approvals ?? ApprovalChoice.Default, remote: true, output, cancellationToken);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    internal static void WatchRuns(IBusRegistrationConfigurator bus) =>
        bus.AddConsumer<RunWatchConsumer>().Endpoint(endpoint =>
        {
            endpoint.Name = $"{Extensions.TemporaryEndpointPrefix}run-watch-{NewId.NextGuid():N}";
            endpoint.Temporary = true;
        });

    /// Follows one run to its end. When the services run in this process, RunSpans collects the
    /// run's spans for the timing table printed at the end, and ITranscriptStore is Memory's store;
    /// a CLI following a deployment has neither.
    private static async Task<int> FollowRunAsync(
        IServiceProvider services, string agent, string goal, JsonElement? input, string? user, IEnumerable<string> header, TimeSpan patience,
        ApprovalChoice approvals, bool remote, TextWriter output, CancellationToken cancellationToken)
    {
        var bus = services.GetRequiredService<IBus>();
        var watch = services.GetRequiredService<RunWatch>();
        var spans = services.GetService<RunSpans>();
        var transcript = services.GetService<ITranscriptStore>();
        var runId = NewId.NextGuid();
        var events = watch.Follow(runId);
        spans?.Follow(runId);

        // The root of the run's trace: everything the run does, in every service, is under it.
        using var trace = AgentryTelemetry.Source.StartActivity($"agentry run {agent}")?
            .SetTag(AgentryTelemetry.Tags.RunId, runId.ToString())
            .SetTag(AgentryTelemetry.Tags.Agent, agent);

        foreach (var line in header)
        {
            await output.WriteLineAsync(line);
        }

        await output.WriteLineAsync($"Run: {runId}");
        if (trace is not null)
        {
            await output.WriteLineAsync($"Trace: {trace.TraceId}");
            if (TraceLinks.JaegerLine(services.GetRequiredService<IConfiguration>(), trace.TraceId) is { } jaeger)
            {
                await output.WriteLineAsync(jaeger);
            }
        }

        await output.WriteLineAsync($"Goal: {goal}");
        if (user is not null)
        {
            await output.WriteLineAsync($"User: {user}");
        }

        await output.WriteLineAsync();

        await bus.Publish(new GoalReceived(runId, Extensions.DefaultTenant, agent, goal, input, TriggerKind.Api, UserId: user), cancellationToken);

        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        waiting.CancelAfter(patience);
        var printer = new RunPrinter(output);
        var asked = new HashSet<(int Step, string CallId)>();
        try
        {
            await foreach (var message in events.ReadAllAsync(waiting.Token))
            {
                if (message is ApprovalRequested request)
                {
                    // A redelivered request asks again for calls already put to the person: once is enough.
                    var unasked = request.Calls.Where(c => asked.Add((request.Step, c.CallId))).ToList();
                    if (unasked.Count > 0)
                    {
                        await RunApprovals.DecideAsync(bus, request with { Calls = unasked }, approvals, remote, output, waiting.Token);
                    }

                    continue;
                }

                if (printer.Print(message))
                {
                    if (spans is not null)
                    {
                        TimingTable.Print(output, spans.Forget(runId));
                    }

                    if (transcript is not null)
                    {
                        await WaitForTheTranscriptAsync(transcript, runId);
                    }

                    return message is RunCompleted ? ExitCodes.Completed : ExitCodes.NotCompleted;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await bus.Publish(new CancelRun(runId, Extensions.DefaultTenant, "Interrupted from the command line."), CancellationToken.None);
            await output.WriteLineAsync("Interrupted: the run was cancelled.");
            return ExitCodes.Interrupted;
        }
        catch (OperationCanceledException)
        {
            await output.WriteLineAsync($"The run did not end within {patience}; giving up waiting (it may still be running: GET /runs/{runId}).");
            return ExitCodes.NotCompleted;
        }
        finally
        {
            watch.Forget(runId);
            spans?.Forget(runId);
        }

        return ExitCodes.NotCompleted;
    }

    /// The in-memory bus stops with this command, possibly before Memory's own copy of the end of the
    /// run (another queue than the one followed here) was consumed: the transcript then stayed
    /// "Running" (seen under load). Waiting briefly for Memory to record the end keeps it complete.
    private static async Task WaitForTheTranscriptAsync(ITranscriptStore transcript, Guid runId)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(5) && (await transcript.GetAsync(runId, CancellationToken.None)).Status is null or RunStatus.Running)
        {
            await Task.Delay(20);
        }
    }

    /// Resumes (guidance) or closes (resolution) an escalated run through a Gateway's HTTP API:
    /// an escalated run waits in the saga of a running deployment or `agentry serve`, not in this process.
    public static async Task<int> DecideEscalationAsync(
        string action, string runId, string text, string? by, GatewayTarget gateway, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        using var http = await ApprovalCommands.GatewayClientAsync(gateway, error);
        if (http is null)
        {
            return ExitCodes.BadInput;
        }

        if (!Guid.TryParse(runId, out var id))
        {
            await error.WriteLineAsync($"'{runId}' is not a run id (a GUID, as `agentry run` prints after Run:).");
            return ExitCodes.BadInput;
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            await error.WriteLineAsync(action == "resume" ? "The guidance is empty: tell the agent what to do now." : "The resolution is empty: say what was done or decided.");
            return ExitCodes.BadInput;
        }

        by = string.IsNullOrWhiteSpace(by) ? Environment.UserName : by;
        object body = action == "resume" ? new ResumeRunRequest(text, by) : new CloseRunRequest(text, by);
        HttpResponseMessage response;
        try
        {
            response = await http.PostAsJsonAsync($"runs/{id}/{action}", body, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync($"No Gateway answers at {http.BaseAddress} ({e.Message}). Start one with `agentry serve`, or name it with --gateway or AGENTRY_GATEWAY.");
            return ExitCodes.NotCompleted;
        }

        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                await output.WriteLineAsync(action == "resume"
                    ? $"Run {id} resumed: it plans its next step with your guidance."
                    : $"Run {id} closed: it ends Completed with your resolution as its answer.");
                return ExitCodes.Completed;
            }

            await error.WriteLineAsync($"The Gateway refused ({(int)response.StatusCode}): {await ApprovalCommands.ProblemAsync(response, cancellationToken)}");
            return response.StatusCode == System.Net.HttpStatusCode.BadRequest ? ExitCodes.BadInput : ExitCodes.NotCompleted;
        }
    }

    public static async Task<int> ListAgentsAsync(string? agentsPath, TextWriter output, TextWriter error)
    {
        var builder = CreateBuilder(agentsPath, verbose: false);
        builder.Services.AddAgentryCore(builder.Configuration, "agentry").AddAgentTools(builder.Configuration);
        using var host = builder.Build();
        if (LoadAgents(host.Services, error) is not { } agents)
        {
            return ExitCodes.BadInput;
        }

        if (agents.All.Count == 0)
        {
            await output.WriteLineAsync($"No agents are defined in {Path.GetFullPath(host.Services.GetRequiredService<IOptions<AgentsOptions>>().Value.ResolvePath())}.");
            return ExitCodes.Completed;
        }

        foreach (var agent in agents.All)
        {
            await output.WriteLineAsync($"{agent.Name}");
            await output.WriteLineAsync($"  {agent.Description}");
            await output.WriteLineAsync($"  tools: {(agent.Tools.Count == 0 ? "none" : string.Join(", ", agent.Tools.Select(t => t.Name)))}");
            await output.WriteLineAsync($"  limits: {agent.Limits.MaxSteps} steps, {agent.Limits.MaxTokens} tokens, deadline {agent.Limits.Deadline}{(agent.Limits.MaxCost is { } cost ? $", cost {ModelPrices.Format(cost)}" : "")}");
            await WriteTriggersAsync(agent, DateTimeOffset.UtcNow, output);
            await output.WriteLineAsync($"  file: {agent.SourceFile}");
        }

        return ExitCodes.Completed;
    }

    /// An agent's triggers, as its definition declares them: each schedule with its next fire times
    /// (computed here from the cron expression; a running Gateway's `agentry schedules` also says
    /// whether it is paused and what it last fired), each webhook with its path, each subscription.
    internal static async Task WriteTriggersAsync(AgentDefinition agent, DateTimeOffset now, TextWriter output)
    {
        if (agent.Triggers.Count == 0)
        {
            return;
        }

        await output.WriteLineAsync("  triggers:");
        foreach (var trigger in agent.Triggers)
        {
            var tenant = trigger.Tenant is { } t ? $", tenant {t}" : "";
            switch (trigger)
            {
                case Agentry.Agents.Triggers.ScheduleTrigger schedule:
                    await output.WriteLineAsync($"    {schedule.Name}: schedule \"{schedule.CronText}\" in {schedule.TimeZone.Id}, misfire {Agentry.Gateway.Triggers.Schedules.ScheduleTimes.Name(schedule.Misfire)}{tenant}");
                    var next = Agentry.Gateway.Triggers.Schedules.ScheduleTimes.Next(schedule, now);
                    await output.WriteLineAsync(next.Count == 0
                        ? "      next: never (the expression has no future occurrence)"
                        : $"      next: {string.Join("; ", next.Select(Agentry.Gateway.Triggers.Schedules.ScheduleTimes.Describe))}");
                    break;
                case Agentry.Agents.Triggers.WebhookTrigger webhook:
                    await output.WriteLineAsync($"    {webhook.Name}: webhook ({webhook.Scheme.ToString().ToLowerInvariant()} signature, secret {webhook.Secret}), POST /hooks/{agent.Name}/{webhook.Name}{tenant}");
                    break;
                case Agentry.Agents.Triggers.EventTrigger subscription:
                    await output.WriteLineAsync($"    {subscription.Name}: event on exchange {subscription.Exchange} ({subscription.ExchangeType}), routing key {subscription.RoutingKey}{tenant}");
                    break;
            }
        }
    }

    public static async Task<int> ServeAsync(string? agentsPath, string urls, bool verbose, bool noAuth, TextWriter error, CancellationToken cancellationToken)
    {
        // Refused before anything binds; the Gateway checks the addresses it did bind again at start.
        if (noAuth && GatewayStartCheck.ExposedWithoutAuth(urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) is { } exposed)
        {
            await error.WriteLineAsync(exposed);
            return ExitCodes.BadInput;
        }

        try
        {
            await using var app = BuildServer(agentsPath, urls, verbose, noAuth ? new Dictionary<string, string?> { [$"{GatewayOptions.Section}:{nameof(GatewayOptions.AuthDisabled)}"] = "true" } : null);
            if (LoadAgents(app.Services, error) is null)
            {
                return ExitCodes.BadInput;
            }

            await app.RunAsync(cancellationToken);
            return ExitCodes.Completed;
        }
        catch (Exception e) when (GatewayRefusal(e) is { } refusal)
        {
            await error.WriteLineAsync(refusal.Message);
            return ExitCodes.BadInput;
        }
    }

    private static GatewayConfigurationException? GatewayRefusal(Exception e) => e switch
    {
        GatewayConfigurationException refusal => refusal,
        AggregateException aggregate => aggregate.InnerExceptions.Select(GatewayRefusal).FirstOrDefault(r => r is not null),
        _ => e.InnerException is { } inner ? GatewayRefusal(inner) : null,
    };

    /// Every service plus the Gateway's HTTP API, in one process.
    public static WebApplication BuildServer(string? agentsPath, string urls, bool verbose, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        Configure(builder.Configuration, agentsPath, settings);
        builder.Logging.SetMinimumLevel(verbose ? LogLevel.Information : LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        builder.WebHost.UseUrls(urls);
        builder.Services.AddEmbeddedAgentry(builder.Configuration);
        builder.Services.AddGateway(builder.Configuration);
        builder.Services.AddRecentTraces(builder.Configuration);
        var app = builder.Build();
        app.MapAgentryEndpoints();
        app.MapGateway();
        return app;
    }

    internal static HostApplicationBuilder CreateBuilder(string? agentsPath, bool verbose, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
        Configure(builder.Configuration, agentsPath, settings);
        builder.Logging.SetMinimumLevel(verbose ? LogLevel.Information : LogLevel.Warning);
        if (!verbose)
        {
            // The bus's retries while it connects, and the host's own report of a failed start, are
            // for --verbose: a command says in one line why it could not start (StartOnDeploymentAsync),
            // and any other failure to start is thrown to the top, which prints it.
            builder.Logging.AddFilter("MassTransit", LogLevel.Error);
            builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        }

        // A command publishes as soon as its host has started and follows the run on its temporary
        // endpoint: publishing before that endpoint is bound could miss the run's end and wait out the
        // whole patience. And a broker that cannot be reached is said at once, not waited on for minutes.
        builder.Services.Configure<MassTransitHostOptions>(options =>
        {
            options.WaitUntilStarted = true;
            options.StartTimeout = builder.Configuration.GetValue("Bus:StartTimeout", TimeSpan.FromSeconds(30));
        });
        return builder;
    }

    /// Starts a host whose bus is a deployment's RabbitMQ; false, with the reason written, when that
    /// broker does not answer within Bus:StartTimeout.
    internal static async Task<bool> StartOnDeploymentAsync(IHost host, string bus, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            await host.StartAsync(cancellationToken);
            return true;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is OperationCanceledException or MassTransitException)
        {
            var where = new Uri(bus);
            var timeout = host.Services.GetRequiredService<IOptions<MassTransitHostOptions>>().Value.StartTimeout;
            await error.WriteLineAsync(
                $"The RabbitMQ at {where.Host}:{where.Port}{where.AbsolutePath} did not answer within {timeout?.TotalSeconds:0} s ({e.GetBaseException().Message}). " +
                "Check --bus (or ConnectionStrings__rabbitmq) and that the deployment's broker is up; Bus__StartTimeout waits longer.");
            await host.StopAsync(CancellationToken.None);
            return false;
        }
    }

    private static void Configure(IConfigurationManager configuration, string? agentsPath, IReadOnlyDictionary<string, string?>? settings)
    {
        if (agentsPath is not null)
        {
            configuration[$"{AgentsOptions.Section}:{nameof(AgentsOptions.Path)}"] = agentsPath;
        }

        configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
    }

    internal static AgentCatalog? LoadAgents(IServiceProvider services, TextWriter error)
    {
        try
        {
            return services.GetRequiredService<AgentCatalog>();
        }
        catch (Exception e) when (e is AgentCatalogException or DirectoryNotFoundException)
        {
            error.WriteLine(e.Message);
            return null;
        }
    }
}
