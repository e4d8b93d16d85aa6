using System.CommandLine;
using System.Globalization;
using Agentry.Memory;
using Agentry.ServiceDefaults;
using Agentry.Agents;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Cli;

/// `agentry memory list|forget`: a user's long-term memory in the embedded store (the same SQLite
/// file `agentry run` and `agentry serve` use, or MongoDB when ConnectionStrings__mongodb is set).
public static class MemoryCommands
{
    public static Command Create(Option<string?> agentsOption, TextWriter output, TextWriter error)
    {
        var userOption = new Option<string>("--user", "-u") { Description = "The user whose memory this is.", Required = true };
        var tenantOption = new Option<string>("--tenant")
        {
            Description = "The tenant the user belongs to.",
            DefaultValueFactory = _ => Extensions.DefaultTenant,
        };
        var idOption = new Option<Guid?>("--id") { Description = "The memory to forget (its id, from `agentry memory list`)." };
        var allOption = new Option<bool>("--all") { Description = "Forget everything remembered about the user." };

        var list = new Command("list", "List what is remembered about a user (facts and preferences), oldest first, with ids for `forget`.")
        {
            userOption, tenantOption,
        };
        list.SetAction((parse, cancellationToken) => ListAsync(parse.GetValue(userOption)!, parse.GetValue(tenantOption)!, parse.GetValue(agentsOption), null, output, error, cancellationToken));

        var forget = new Command("forget", "Delete one memory of a user (--id) or all of them (--all) from the store. Exits 1 when there was no such memory.")
        {
            userOption, tenantOption, idOption, allOption,
        };
        forget.SetAction((parse, cancellationToken) => ForgetAsync(
            parse.GetValue(userOption)!, parse.GetValue(tenantOption)!, parse.GetValue(idOption), parse.GetValue(allOption), parse.GetValue(agentsOption), null, output, error, cancellationToken));

        return new Command("memory", "Long-term memory: what agents with memory.long_term remember about each user.") { list, forget };
    }

    public static async Task<int> ListAsync(
        string user, string tenant, string? agentsPath, IReadOnlyDictionary<string, string?>? settings, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (UserIds.Problem(user) is { } problem)
        {
            await error.WriteLineAsync($"--user: {problem}");
            return ExitCodes.BadInput;
        }

        using var store = OpenStore(agentsPath, settings);
        var items = await store.Items.ListItemsAsync(tenant, user, cancellationToken);
        if (items.Count == 0)
        {
            await output.WriteLineAsync($"Nothing is remembered about user '{user}' (tenant '{tenant}').");
            return ExitCodes.Completed;
        }

        foreach (var item in items)
        {
            var source = item.SourceRunId is { } run ? $"  (run {run})" : "";
            await output.WriteLineAsync(
                $"{item.Id}  {item.Kind.ToString().ToLowerInvariant(),-10}  {item.CreatedAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)}  {item.Text}{source}");
        }

        return ExitCodes.Completed;
    }

    public static async Task<int> ForgetAsync(
        string user, string tenant, Guid? id, bool all, string? agentsPath, IReadOnlyDictionary<string, string?>? settings, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (UserIds.Problem(user) is { } problem)
        {
            await error.WriteLineAsync($"--user: {problem}");
            return ExitCodes.BadInput;
        }

        if ((id is null) == !all)
        {
            await error.WriteLineAsync("Say what to forget: --id ID for one memory (see `agentry memory list`), or --all for everything about the user.");
            return ExitCodes.BadInput;
        }

        using var store = OpenStore(agentsPath, settings);
        if (id is { } one)
        {
            if (!await store.Items.DeleteItemAsync(tenant, user, one, cancellationToken))
            {
                await error.WriteLineAsync($"User '{user}' (tenant '{tenant}') has no memory {one}.");
                return ExitCodes.NotCompleted;
            }

            await output.WriteLineAsync($"Forgot memory {one} of user '{user}'.");
            return ExitCodes.Completed;
        }

        var deleted = await store.Items.DeleteItemsAsync(tenant, user, cancellationToken);
        await output.WriteLineAsync($"Forgot {deleted} {(deleted == 1 ? "memory" : "memories")} of user '{user}'.");
        return ExitCodes.Completed;
    }

    private sealed class OpenedStore(IDisposable host, IMemoryItemStore items) : IDisposable
    {
        public IMemoryItemStore Items { get; } = items;

        public void Dispose() => host.Dispose();
    }

    // Memory's own registration, so the CLI reads the store the services write, configured the same way.
    private static OpenedStore OpenStore(string? agentsPath, IReadOnlyDictionary<string, string?>? settings)
    {
        var builder = Commands.CreateBuilder(agentsPath, verbose: false, settings);
        builder.Services.AddMemory(builder.Configuration);
        var host = builder.Build();
        return new OpenedStore(host, host.Services.GetRequiredService<IMemoryItemStore>());
    }
}
