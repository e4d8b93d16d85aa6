using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Agentry.Agents;
using Agentry.Agents.Tools;
using Agentry.Contracts;
using Agentry.Evaluation.Comparison;
using Agentry.Evaluation.Datasets;
using Agentry.Evaluation.Grading;
using Agentry.Evaluation.Results;
using Agentry.Evaluation.Running;
using Agentry.Evaluation.Stores;
using Agentry.Llm;
using Agentry.Memory;
using Agentry.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Agentry.Cli.Eval;

/// What `agentry eval DATASET` was asked. Baseline is an eval run id, `latest` (the newest stored run
/// of the same dataset) or a JSON file written with Json; Threshold is the drop in the share of
/// passing cases allowed against it. Settings are extra configuration entries (tests use them).
public sealed record EvalOptions(
    string Dataset,
    string? Agent = null,
    string? Model = null,
    int Repeat = 1,
    int Concurrency = 1,
    string? Baseline = null,
    double Threshold = 0,
    string? Judge = null,
    string? Json = null,
    string? Bus = null,
    TimeSpan? Timeout = null,
    string? AgentsPath = null,
    bool Verbose = false,
    IReadOnlyDictionary<string, string?>? Settings = null,
    bool Terminal = false);

/// `agentry eval ...`: run a dataset through the real runtime and grade it, compare runs, and turn
/// recorded runs into cases. See docs/evaluation.md.
public static class EvalCommands
{
    public const string LatestBaseline = "latest";

    private static readonly JsonSerializerOptions RecordJson = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static async Task<int> EvaluateAsync(EvalOptions options, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (Problem(options) is { } problem)
        {
            await error.WriteLineAsync(problem);
            return ExitCodes.BadInput;
        }

        EvalDataset dataset;
        try
        {
            dataset = DatasetLoader.LoadFile(options.Dataset);
        }
        catch (Exception e) when (e is DatasetException or FileNotFoundException)
        {
            await error.WriteLineAsync(e.Message);
            return ExitCodes.BadInput;
        }

        var builder = Commands.CreateBuilder(options.AgentsPath, options.Verbose, options.Settings);
        if (options.Bus is not null)
        {
            builder.Configuration["ConnectionStrings:rabbitmq"] = options.Bus;
        }

        var configuration = builder.Configuration;
        var remote = configuration.GetConnectionString("rabbitmq") is { Length: > 0 };
        if (remote && options.Model is not null)
        {
            await error.WriteLineAsync("--model works only with the runtime embedded here: a deployment's agents ask the models their definitions name. Leave out --bus (and ConnectionStrings__rabbitmq), or change the agent's model in the deployment.");
            return ExitCodes.BadInput;
        }

        var model = ParseModel(options.Model, configuration);
        var judgeOverride = ParseModel(options.Judge, configuration);
        builder.Services.AddSingleton<RunWatch>();
        if (remote)
        {
            builder.Services.AddAgentryCore(configuration, "agentry-eval");
            builder.Services.AddAgentryLlm(configuration);
            builder.Services.AddAgentryBus(configuration, Commands.WatchRuns, bus => bus.AddRequestClient<GetRun>(RequestTimeout.After(s: 10)));
        }
        else
        {
            if (model is not null)
            {
                // Registered before the runtime's own (which only adds one when none is there): every
                // agent of this process asks the model given, without its fallbacks.
                builder.Services.AddSingleton(sp => new AgentCatalog(AgentCatalog.LoadDirectory(
                        sp.GetRequiredService<IOptions<AgentsOptions>>().Value.ResolvePath(), sp.GetRequiredService<ToolCatalog>(), ModelProviders.Names(configuration))
                    .All.Select(a => a with { Model = a.Model with { Provider = model.Provider, Name = model.Name, Fallbacks = [] } })));
            }

            builder.Services.AddEmbeddedAgentry(configuration, Commands.WatchRuns);
        }

        using var host = builder.Build();
        var agents = remote ? LocalAgents(options.AgentsPath) : Commands.LoadAgents(host.Services, error);
        if (!remote && agents is null)
        {
            return ExitCodes.BadInput;
        }

        if (!remote && dataset.Cases.FirstOrDefault(c => agents!.Find(dataset.AgentOf(c, options.Agent)) is null) is { } orphan)
        {
            var name = dataset.AgentOf(orphan, options.Agent);
            await error.WriteLineAsync($"{dataset.File}:{orphan.Line}:1: case '{orphan.Id}' is run by agent '{name}', which is not defined. {agents!.DescribeUnknown(name)} Point --agents at the folder that defines it, or name another with --agent.");
            return ExitCodes.BadInput;
        }

        var store = EvalResultStores.Open(configuration);
        EvalRunRecord? baseline = null;
        if (options.Baseline is { } baselineName)
        {
            (baseline, var baselineProblem) = await FindBaselineAsync(store, baselineName, dataset.Name, cancellationToken);
            if (baselineProblem is not null)
            {
                await error.WriteLineAsync(baselineProblem);
                return ExitCodes.BadInput;
            }
        }

        var models = host.Services.GetRequiredService<ModelGateway>();
        var judge = new RubricGrader(models, host.Services.GetRequiredService<ModelPrices>(), judgeOverride ?? dataset.JudgeModel, host.Services.GetRequiredService<ILogger<RubricGrader>>());
        try
        {
            _ = judge.JudgeModel;
        }
        catch (InvalidOperationException e)
        {
            await error.WriteLineAsync($"The rubric judge's model cannot be asked: {e.Message} Name a configured provider in the dataset's judge: or with --judge.");
            return ExitCodes.BadInput;
        }

        if (remote)
        {
            if (!await Commands.StartOnDeploymentAsync(host, configuration.GetConnectionString("rabbitmq")!, error, cancellationToken))
            {
                return ExitCodes.BadInput;
            }
        }
        else
        {
            await host.StartAsync(cancellationToken);
        }

        try
        {
            if (dataset.Knowledge.Count > 0)
            {
                await SetUpKnowledgeAsync(host.Services, dataset, remote, error, cancellationToken);
            }

            var runner = new BusCaseRunner(
                host.Services.GetRequiredService<IBus>(), host.Services.GetRequiredService<RunWatch>(), host.Services.GetRequiredService<IRequestClient<GetRun>>(),
                agent => options.Timeout ?? (agents?.Find(agent)?.Limits.Deadline is { } deadline ? deadline + TimeSpan.FromSeconds(30) : TimeSpan.FromMinutes(10)),
                remote);
            Grader[] graders = [new OutcomeGrader(), new AnswerGrader(), new SchemaGrader(), new ToolGrader(), new BudgetGrader(), judge];
            var subject = new EvalSubject(agent => agents?.Find(agent) is { } definition ? HashOf(definition.SourceFile, options.Model) : "unknown", options.Model);
            await error.WriteLineAsync($"Evaluating {dataset.Name}: {dataset.Cases.Count} case(s) x {options.Repeat} trial(s), {options.Concurrency} at once, {(remote ? $"on the deployment at {new Uri(configuration.GetConnectionString("rabbitmq")!).Host}" : "embedded")}.");
            var record = await new EvalRunner(graders, TimeProvider.System).RunAsync(
                dataset, new EvalSettings(options.Agent, options.Repeat, options.Concurrency), subject, runner, new EvalProgressWriter(error, options.Terminal), cancellationToken);
            await store.SaveAsync(record, cancellationToken);
            EvalTables.PrintRun(output, record);
            await output.WriteLineAsync($"Stored as {record.Id} in {store.Location}.");
            if (options.Json is { } json)
            {
                await File.WriteAllTextAsync(json, JsonSerializer.Serialize(record, RecordJson), cancellationToken);
                await output.WriteLineAsync($"Written to {json} (a baseline for --baseline {json}).");
            }

            if (baseline is null)
            {
                return record.CasesPassed == record.Cases.Count ? ExitCodes.Completed : ExitCodes.NotCompleted;
            }

            await output.WriteLineAsync();
            var comparison = EvalComparison.Of(baseline, record, options.Threshold);
            EvalTables.PrintComparison(output, comparison);
            await output.WriteLineAsync(comparison.HasRegression
                ? "Gate: FAILED: the run regressed against the baseline."
                : "Gate: passed: no regression against the baseline.");
            return comparison.HasRegression ? ExitCodes.NotCompleted : ExitCodes.Completed;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    public static async Task<int> CompareAsync(string baselineName, string currentName, double threshold, IReadOnlyDictionary<string, string?>? settings, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var store = Store(settings);
        var (baseline, problem) = await FindBaselineAsync(store, baselineName, dataset: null, cancellationToken);
        var (current, currentProblem) = problem is null ? await FindBaselineAsync(store, currentName, dataset: null, cancellationToken) : (null, null);
        if ((problem ?? currentProblem) is { } message)
        {
            await error.WriteLineAsync(message);
            return ExitCodes.BadInput;
        }

        var comparison = EvalComparison.Of(baseline!, current!, threshold);
        EvalTables.PrintComparison(output, comparison);
        return comparison.HasRegression ? ExitCodes.NotCompleted : ExitCodes.Completed;
    }

    public static async Task<int> ListAsync(string? dataset, int limit, IReadOnlyDictionary<string, string?>? settings, TextWriter output, CancellationToken cancellationToken)
    {
        var store = Store(settings);
        var runs = await store.ListAsync(dataset, limit, cancellationToken);
        if (runs.Count == 0)
        {
            await output.WriteLineAsync($"No eval runs{(dataset is null ? "" : $" of {dataset}")} in {store.Location}. Run one with: agentry eval agents/evals/assistant.yaml");
            return ExitCodes.Completed;
        }

        foreach (var run in runs)
        {
            await output.WriteLineAsync($"{run.Id}  {run.StartedAt.ToLocalTime():yyyy-MM-dd HH:mm}  {run.Dataset} ({run.DatasetVersion})  {run.CasesPassed}/{run.Cases} cases passed  {run.Agents}  {run.Model}");
        }

        return ExitCodes.Completed;
    }

    /// The run from a deployment's Gateway (when one is named) or from the local store, appended to the dataset as a case.
    public static async Task<int> AddRunAsync(
        string runId, string datasetFile, string? caseId, GatewayTarget? gateway, string? agentsPath, IReadOnlyDictionary<string, string?>? settings,
        TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(runId, out var id))
        {
            await error.WriteLineAsync($"'{runId}' is not a run id (a GUID, as `agentry run` prints after Run:).");
            return ExitCodes.BadInput;
        }

        try
        {
            _ = DatasetLoader.LoadFile(datasetFile);
        }
        catch (Exception e) when (e is DatasetException or FileNotFoundException)
        {
            await error.WriteLineAsync($"{e.Message} Fix the dataset first: the case is appended to it.");
            return ExitCodes.BadInput;
        }

        var run = gateway is null ? await LocalRunAsync(id, agentsPath, settings, cancellationToken) : await RemoteRunAsync(gateway, id, error, cancellationToken);
        if (run is null || !run.Found)
        {
            await error.WriteLineAsync(run is null ? "" : $"No run {id} is recorded {(gateway is null ? $"in the local store ({StoreConnections.Sqlite(Configuration(settings))})" : $"at {gateway.Url}")}. Give the id `agentry run` or the Gateway printed{(gateway is null ? ", or name the deployment with --gateway" : "")}.");
            return ExitCodes.BadInput;
        }

        if (string.IsNullOrWhiteSpace(run.Goal) || run.Agent is null)
        {
            await error.WriteLineAsync($"Run {id} has no recorded goal or agent, so it cannot be replayed as a case.");
            return ExitCodes.BadInput;
        }

        caseId ??= $"run-{id.ToString("N")[..8]}";
        var @case = RunToCase.Case(run, caseId);
        var text = RunToCase.Append(datasetFile, @case, RunToCase.Provenance(run, TimeProvider.System.GetLocalNow()));
        try
        {
            RunToCase.Verify(datasetFile, text, caseId);
        }
        catch (DatasetException e)
        {
            await error.WriteLineAsync($"The case was not added: {e.Message}{(e.Problem.Contains("defined twice", StringComparison.Ordinal) ? " Name the new case with --id." : "")}");
            return ExitCodes.BadInput;
        }

        await File.WriteAllTextAsync(datasetFile, text, cancellationToken);
        await output.WriteLineAsync($"Added case '{caseId}' to {datasetFile}, from run {id} ({run.Status?.ToString().ToLowerInvariant()}): agent {run.Agent}, goal \"{run.Goal}\". Review its expectations, then run: agentry eval {datasetFile}");
        return ExitCodes.Completed;
    }

    internal static async Task<RunView?> LocalRunAsync(Guid id, string? agentsPath, IReadOnlyDictionary<string, string?>? settings, CancellationToken cancellationToken)
    {
        var builder = Commands.CreateBuilder(agentsPath, verbose: false, settings);
        builder.Services.AddEmbeddedAgentry(builder.Configuration);
        using var host = builder.Build();
        return await host.Services.GetRequiredService<ITranscriptStore>().GetAsync(id, cancellationToken);
    }

    internal static async Task<RunView?> RemoteRunAsync(GatewayTarget gateway, Guid id, TextWriter error, CancellationToken cancellationToken)
    {
        using var http = await ApprovalCommands.GatewayClientAsync(gateway, error);
        if (http is null)
        {
            return null;
        }

        try
        {
            using var response = await http.GetAsync($"runs/{id}", cancellationToken);
            if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                return RunView.NotFound(id);
            }

            if (!response.IsSuccessStatusCode)
            {
                await error.WriteLineAsync($"The Gateway refused ({(int)response.StatusCode}): {await ApprovalCommands.ProblemAsync(response, cancellationToken)}");
                return null;
            }

            return await response.Content.ReadFromJsonAsync<RunView>(RunCommands.Web, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync($"No Gateway answers at {http.BaseAddress} ({e.Message}). Name it with --gateway, or leave --gateway out to read the local store.");
            return null;
        }
    }

    /// An eval run id, `latest` (of the dataset), or a JSON file written by `agentry eval --json`.
    internal static async Task<(EvalRunRecord? Run, string? Problem)> FindBaselineAsync(IEvalResultStore store, string name, string? dataset, CancellationToken cancellationToken)
    {
        if (name == LatestBaseline)
        {
            if (dataset is null)
            {
                return (null, "'latest' needs a dataset: use it with `agentry eval DATASET --baseline latest`, or give an eval run id (see `agentry eval list`).");
            }

            var latest = await store.ListAsync(dataset, 1, cancellationToken);
            return latest.Count == 0
                ? (null, $"There is no earlier eval run of {dataset} in {store.Location} to compare with. Run `agentry eval` once without --baseline to make one, or give a baseline file written with --json.")
                : (await store.GetAsync(latest[0].Id, cancellationToken), null);
        }

        if (Guid.TryParse(name, out var id))
        {
            return await store.GetAsync(id, cancellationToken) is { } run
                ? (run, null)
                : (null, $"No eval run {id} in {store.Location}. See `agentry eval list` for the stored runs.");
        }

        if (File.Exists(name))
        {
            try
            {
                return (JsonSerializer.Deserialize<EvalRunRecord>(await File.ReadAllTextAsync(name, cancellationToken), RecordJson), null);
            }
            catch (JsonException e)
            {
                return (null, $"{name} is not an eval run written by `agentry eval --json` ({e.Message}).");
            }
        }

        return (null, $"'{name}' is neither an eval run id, nor 'latest', nor a baseline file. See `agentry eval list` for the stored runs.");
    }

    private static async Task SetUpKnowledgeAsync(IServiceProvider services, EvalDataset dataset, bool remote, TextWriter error, CancellationToken cancellationToken)
    {
        if (remote)
        {
            await error.WriteLineAsync($"The dataset's setup.knowledge ({string.Join(", ", dataset.Knowledge.Keys)}) is not ingested into a deployment: the deployment's knowledge base is used as it is.");
            return;
        }

        var knowledge = services.GetRequiredService<KnowledgeBase>();
        foreach (var (collection, paths) in dataset.Knowledge)
        {
            // A file ingested again replaces its chunks, so a second eval finds the same collection.
            var summary = await knowledge.IngestAsync(Extensions.DefaultTenant, collection, paths, progress: null, cancellationToken);
            await error.WriteLineAsync($"Knowledge '{collection}': {summary.Files} file(s), {summary.Chunks} chunks.");
        }
    }

    private static string? Problem(EvalOptions options) =>
        options.Repeat is < 1 or > EvalSettings.MaxRepeat ? $"--repeat must be from 1 to {EvalSettings.MaxRepeat}, not {options.Repeat}."
        : options.Concurrency is < 1 or > EvalSettings.MaxConcurrency ? $"--concurrency must be from 1 to {EvalSettings.MaxConcurrency}, not {options.Concurrency}."
        : options.Threshold is < 0 or > 1 ? $"--threshold is the drop in the share of passing cases allowed against the baseline, from 0 to 1 (0.05 is 5 points), not {options.Threshold}."
        : null;

    /// PROVIDER/NAME when PROVIDER is configured, else a model NAME of the default provider (so that
    /// a model id with a slash, like vLLM's Qwen/Qwen2.5-7B-Instruct, stays whole).
    private static ModelChoice? ParseModel(string? text, IConfiguration configuration)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && ModelProviders.Names(configuration).Contains(text[..slash])
            ? new ModelChoice(text[(slash + 1)..], text[..slash])
            : new ModelChoice(text);
    }

    /// The first 12 hex digits of a SHA-256 of the definition file (and of the model given with
    /// --model, which changes the agent as much as an edit would).
    private static string HashOf(string file, string? model)
    {
        var text = File.Exists(file) ? File.ReadAllText(file).ReplaceLineEndings("\n") : file;
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(model is null ? text : $"{text}\nmodel override: {model}")))[..12];
    }

    /// For a deployment, the hashes of the local copies of its agents, when this folder has them.
    internal static AgentCatalog? LocalAgents(string? agentsPath)
    {
        try
        {
            var builder = Commands.CreateBuilder(agentsPath, verbose: false);
            builder.Services.AddAgentryCore(builder.Configuration, "agentry").AddAgentTools(builder.Configuration);
            using var host = builder.Build();
            return host.Services.GetRequiredService<AgentCatalog>();
        }
        catch (Exception e) when (e is AgentCatalogException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private static IConfiguration Configuration(IReadOnlyDictionary<string, string?>? settings) =>
        Commands.CreateBuilder(null, verbose: false, settings).Configuration;

    internal static IEvalResultStore Store(IReadOnlyDictionary<string, string?>? settings) => EvalResultStores.Open(Configuration(settings));
}
