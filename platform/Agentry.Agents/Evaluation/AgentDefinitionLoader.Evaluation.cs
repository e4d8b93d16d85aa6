using System.Text.RegularExpressions;
using Agentry.Agents.Evaluation;
using Agentry.Agents.Tools;
using YamlDotNet.RepresentationModel;

namespace Agentry.Agents;

/// `evaluation:` of an agent definition: the per-run model judge, and online evaluation of a sample of runs.
public static partial class AgentDefinitionLoader
{
    private static readonly string[] OnlineCheckKeys =
        ["contains", "not_contains", "matches", "called", "not_called", "max_steps", "max_tokens", "max_cost", "max_latency"];

    private static AgentEvaluation ReadEvaluation(Reader reader, YamlNode? node, ISet<string>? knownProviders, IReadOnlyList<AgentTool> agentTools)
    {
        if (node is null)
        {
            return AgentEvaluation.RulesOnly;
        }

        var map = reader.Mapping(node, "evaluation");
        reader.RejectUnknownKeys(map, ["judge", "min_confidence", "model", "online"], "'evaluation'");
        var judge = map.Find("judge") is { } j && reader.Boolean(j, "evaluation.judge");
        var minConfidence = map.Find("min_confidence") is { } c
            ? reader.Fraction(c, "evaluation.min_confidence")
            : AgentEvaluation.DefaultMinConfidence;
        var model = map.Find("model") is { } m ? ReadModel(reader, m, knownProviders) : null;
        return new AgentEvaluation(judge, minConfidence, model)
        {
            Online = map.Find("online") is { } online ? ReadOnline(reader, online, agentTools) : null,
        };
    }

    private static OnlineEvaluation ReadOnline(Reader reader, YamlNode node, IReadOnlyList<AgentTool> agentTools)
    {
        var map = reader.Mapping(node, "evaluation.online");
        reader.RejectUnknownKeys(map, ["sample", "rubric", "min_score", "checks", "alert"], "'evaluation.online'");
        var sample = map.Find("sample") is { } s
            ? reader.Fraction(s, "evaluation.online.sample")
            : throw reader.Error(map, "evaluation.online needs 'sample': the share of completed runs to grade, from 0 to 1 (0.1 grades one run in ten).");
        var checks = map.Find("checks") is { } checksNode ? ReadOnlineChecks(reader, checksNode, agentTools) : new OnlineChecks();
        if (map.Find("rubric") is { } rubric)
        {
            var criteria = reader.Scalar(rubric, "evaluation.online.rubric");
            checks = string.IsNullOrWhiteSpace(criteria)
                ? throw reader.Error(rubric, "evaluation.online.rubric is empty: write what a good answer does, or remove it.")
                : checks with { Rubric = criteria.Trim() };
        }

        if (map.Find("min_score") is { } minScore)
        {
            checks = checks.Rubric is null
                ? throw reader.Error(minScore, "evaluation.online.min_score is the rubric's passing score: it needs a 'rubric'.")
                : checks with { MinScore = reader.Fraction(minScore, "evaluation.online.min_score") };
        }

        if (!checks.GradesAnything)
        {
            throw reader.Error(map, "evaluation.online grades nothing: give a 'rubric' for the model judge, 'checks' (" + string.Join(", ", OnlineCheckKeys) + "), or both.");
        }

        return new OnlineEvaluation(sample, checks, map.Find("alert") is { } alert ? ReadOnlineAlert(reader, alert) : null);
    }

    private static OnlineChecks ReadOnlineChecks(Reader reader, YamlNode node, IReadOnlyList<AgentTool> agentTools)
    {
        var map = reader.Mapping(node, "evaluation.online.checks");
        reader.RejectUnknownKeys(map, OnlineCheckKeys, "'evaluation.online.checks'");
        return new OnlineChecks
        {
            Contains = map.Find("contains") is { } contains ? reader.Texts(contains, "evaluation.online.checks.contains") : [],
            NotContains = map.Find("not_contains") is { } notContains ? reader.Texts(notContains, "evaluation.online.checks.not_contains") : [],
            Matches = map.Find("matches") is { } matches ? ReadPatterns(reader, matches) : [],
            Called = map.Find("called") is { } called ? ReadToolNames(reader, called, "evaluation.online.checks.called", agentTools) : [],
            NotCalled = map.Find("not_called") is { } notCalled ? ReadToolNames(reader, notCalled, "evaluation.online.checks.not_called", agentTools) : [],
            MaxSteps = map.Find("max_steps") is { } steps ? reader.PositiveInt(steps, "evaluation.online.checks.max_steps", max: 1_000) : null,
            MaxTokens = map.Find("max_tokens") is { } tokens ? reader.PositiveInt(tokens, "evaluation.online.checks.max_tokens", max: 100_000_000) : null,
            MaxCost = map.Find("max_cost") is { } cost ? reader.Dollars(cost, "evaluation.online.checks.max_cost") : null,
            MaxLatency = map.Find("max_latency") is { } latency ? reader.Duration(latency, "evaluation.online.checks.max_latency") : null,
        };
    }

    /// The alert goes to the agent's own `notify:` channels, like its runs' outcomes.
    private static OnlineAlert ReadOnlineAlert(Reader reader, YamlNode node)
    {
        var map = reader.Mapping(node, "evaluation.online.alert");
        reader.RejectUnknownKeys(map, ["window", "drop"], "'evaluation.online.alert'");
        var window = map.Find("window") is { } w ? reader.PositiveInt(w, "evaluation.online.alert.window", max: 10_000) : OnlineAlert.DefaultWindow;
        var drop = map.Find("drop") is { } d ? reader.Fraction(d, "evaluation.online.alert.drop") : OnlineAlert.DefaultDrop;
        if (drop == 0)
        {
            throw reader.Error(map.Find("drop")!, "evaluation.online.alert.drop of 0 would alert on any change at all; give the drop in mean score that matters, such as 0.2.");
        }

        return new OnlineAlert(window, drop);
    }

    private static List<Regex> ReadPatterns(Reader reader, YamlNode node)
    {
        var patterns = new List<Regex>();
        foreach (var (item, text) in reader.TextItems(node, "evaluation.online.checks.matches"))
        {
            try
            {
                patterns.Add(new Regex(text, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)));
            }
            catch (ArgumentException e)
            {
                throw reader.Error(item, $"'{text}' in evaluation.online.checks.matches is not a regular expression: {e.Message}");
            }
        }

        return patterns;
    }

    /// Only the agent's own tools: a check on a tool it cannot call would always say the same.
    private static List<string> ReadToolNames(Reader reader, YamlNode node, string what, IReadOnlyList<AgentTool> agentTools)
    {
        var names = new List<string>();
        foreach (var (item, name) in reader.TextItems(node, what))
        {
            names.Add(agentTools.Any(t => t.Name == name)
                ? name
                : throw reader.Error(item, $"'{name}' in {what} is not one of the agent's tools ({string.Join(", ", agentTools.Select(t => t.Name))}); the check could never fail or never pass."));
        }

        return names;
    }
}
