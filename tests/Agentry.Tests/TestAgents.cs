using Agentry.Agents;
using Agentry.Agents.Tools;

namespace Agentry.Tests;

/// Agent definitions for tests, parsed by the real loader from YAML written here.
public static class TestAgents
{
    public static AgentDefinition Parse(string name, string yaml) =>
        AgentDefinitionLoader.Parse($"{name}.yaml", yaml, ShippedTools.Catalog);

    public static AgentDefinition Assistant(int maxSteps = 8, int maxTokens = 20_000, string deadline = "2m", string? webhook = null) =>
        Parse("assistant", $"""
            description: Test assistant
            instructions: Use the tools.
            tools: [calculator, current_time, http_get]
            limits:
              max_steps: {maxSteps}
              max_tokens: {maxTokens}
              deadline: {deadline}
            {(webhook is null ? "" : $"notify:\n  webhook: {webhook}")}
            """);

    public static AgentCatalog Catalog(params AgentDefinition[] agents) => new(agents.Length == 0 ? [Assistant()] : agents);

    /// The repository's own agents folder, so end-to-end tests run the shipped sample.
    public static string RepositoryAgentsFolder()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, "agents");
            if (File.Exists(Path.Combine(folder.FullName, "Agentry.sln")) && Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("The repository's agents folder was not found above " + AppContext.BaseDirectory);
    }
}
