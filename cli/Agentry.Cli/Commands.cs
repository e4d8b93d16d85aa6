using System.Text.Json;
using Agentry.Contracts;
using Agentry.Gateway;
using Agentry.Llm;
using Agentry.Memory;
using Agentry.ServiceDefaults;
using Agentry.ServiceDefaults.Agents;
using MassTransit;
using Microsoft.Data.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Agentry.Cli;

public static class ExitCodes
{
    public const int Completed = 0;
    public const int NotCompleted = 1;
    public const int BadInput = 2;
    public const int Interrupted = 130;
}

/// Settings are extra configuration entries (tests point the store at a temporary file with them).
public sealed record RunOptions(string Goal, string Agent, string? AgentsPath, string? InputJson, bool Verbose, IReadOnlyDictionary<string, string?>? Settings = null);

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

        var builder = CreateBuilder(options.AgentsPath, options.Verbose, options.Settings);
        builder.Services.AddSingleton<RunWatch>();
        builder.Services.AddEmbeddedAgentry(builder.Configuration, bus => bus.AddConsumer<RunWatchConsumer>());
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

        await host.StartAsync(cancellationToken);
        try
        {
            return await FollowRunAsync(host.Services, agents.Find(options.Agent)!, options.Goal.Trim(), input, output, cancellationToken);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    private static async Task<int> FollowRunAsync(
        IServiceProvider services, AgentDefinition agent, string goal, JsonElement? input, TextWriter output, CancellationToken cancellationToken)
    {
        var bus = services.GetRequiredService<IBus>();
        var watch = services.GetRequiredService<RunWatch>();
        var model = services.GetRequiredService<ChatModelInfo>();
        var runId = NewId.NextGuid();
        var events = watch.Follow(runId);

        await output.WriteLineAsync($"Agentry: agent '{agent.Name}', run {runId}");
        await output.WriteLineAsync($"Model: {model.Describe()}");
        await output.WriteLineAsync($"Transcript: {new SqliteConnectionStringBuilder(services.GetRequiredService<IOptions<MemoryOptions>>().Value.SqliteConnectionString).DataSource}");
        await output.WriteLineAsync($"Goal: {goal}");
        await output.WriteLineAsync();

        await bus.Publish(new GoalReceived(runId, Extensions.DefaultTenant, agent.Name, goal, input, TriggerKind.Api), cancellationToken);

        // The saga ends the run at its deadline; the margin only guards against a process that lost its way.
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        patience.CancelAfter(agent.Limits.Deadline + TimeSpan.FromSeconds(30));
        var printer = new RunPrinter(output);
        try
        {
            await foreach (var message in events.ReadAllAsync(patience.Token))
            {
                if (printer.Print(message))
                {
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
            await output.WriteLineAsync($"The run did not end within its deadline ({agent.Limits.Deadline}) plus 30 s; giving up waiting.");
            return ExitCodes.NotCompleted;
        }
        finally
        {
            watch.Forget(runId);
        }

        return ExitCodes.NotCompleted;
    }

    public static async Task<int> ListAgentsAsync(string? agentsPath, TextWriter output, TextWriter error)
    {
        var builder = CreateBuilder(agentsPath, verbose: false);
        builder.Services.AddAgentryCore();
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
            await output.WriteLineAsync($"  limits: {agent.Limits.MaxSteps} steps, {agent.Limits.MaxTokens} tokens, deadline {agent.Limits.Deadline}");
            await output.WriteLineAsync($"  file: {agent.SourceFile}");
        }

        return ExitCodes.Completed;
    }

    public static async Task<int> ServeAsync(string? agentsPath, string urls, bool verbose, TextWriter error, CancellationToken cancellationToken)
    {
        var app = BuildServer(agentsPath, urls, verbose);
        if (LoadAgents(app.Services, error) is null)
        {
            return ExitCodes.BadInput;
        }

        await app.RunAsync(cancellationToken);
        return ExitCodes.Completed;
    }

    /// Every service plus the Gateway's HTTP API, in one process.
    public static WebApplication BuildServer(string? agentsPath, string urls, bool verbose, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        Configure(builder.Configuration, agentsPath, settings);
        builder.Logging.SetMinimumLevel(verbose ? LogLevel.Information : LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        builder.WebHost.UseUrls(urls);
        builder.Services.AddEmbeddedAgentry(builder.Configuration);
        var app = builder.Build();
        app.MapAgentryHealth();
        app.MapRunsApi();
        return app;
    }

    private static HostApplicationBuilder CreateBuilder(string? agentsPath, bool verbose, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
        Configure(builder.Configuration, agentsPath, settings);
        builder.Logging.SetMinimumLevel(verbose ? LogLevel.Information : LogLevel.Warning);
        return builder;
    }

    private static void Configure(IConfigurationManager configuration, string? agentsPath, IReadOnlyDictionary<string, string?>? settings)
    {
        if (agentsPath is not null)
        {
            configuration[$"{AgentsOptions.Section}:{nameof(AgentsOptions.Path)}"] = agentsPath;
        }

        configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
    }

    private static AgentCatalog? LoadAgents(IServiceProvider services, TextWriter error)
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
