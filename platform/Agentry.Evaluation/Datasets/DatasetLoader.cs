using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Agentry.Agents;
using Agentry.Contracts;
using Json.Schema;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Agentry.Evaluation.Datasets;

/// Reads a dataset: YAML (a mapping with `cases:`) or JSONL (one case per line, and optionally one
/// line `{"dataset": {...}}` with the dataset's settings). Walks the YAML node tree by hand, as the
/// agent loader does, so that every problem names its file, line and column and says what to do.
/// A JSONL line is checked as JSON first (for JSON's own error position), then read by the same walker.
public static partial class DatasetLoader
{
    public static readonly string[] Extensions = [".yaml", ".yml", ".jsonl"];

    private static readonly string[] DatasetKeys = ["description", "version", "agent", "min_pass_rate", "judge", "setup", "cases"];
    private static readonly string[] CaseKeys = ["id", "goal", "input", "agent", "approve", "expect", "min_pass_rate"];
    private static readonly string[] ExpectKeys = ["status", "answer", "output_schema", "tools", "max_steps", "max_tokens", "max_cost", "max_latency", "rubric"];
    private static readonly string[] AnswerKeys = ["exact", "contains", "not_contains", "regex"];

    public static EvalDataset LoadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No dataset at {Path.GetFullPath(path)}. Give the path of a .yaml or .jsonl file of cases (the shipped ones are in agents/evals/).", path);
        }

        return Parse(path, File.ReadAllText(path));
    }

    public static EvalDataset Parse(string file, string text)
    {
        var extension = Path.GetExtension(file).ToLowerInvariant();
        if (!Extensions.Contains(extension))
        {
            throw new DatasetException(file, 1, 1, $"a dataset is a .yaml, .yml or .jsonl file, not '{extension}'.");
        }

        var name = Path.GetFileNameWithoutExtension(file);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ReplaceLineEndings("\n"))))[..12];
        return extension == ".jsonl" ? ParseJsonLines(file, name, hash, text) : ParseYaml(file, name, hash, text);
    }

    private static EvalDataset ParseYaml(string file, string name, string hash, string text)
    {
        var reader = new Reader(file, 0);
        var root = reader.Root(text);
        reader.RejectUnknownKeys(root, DatasetKeys, "a dataset");
        var settings = ReadSettings(reader, root);
        var casesNode = Find(root, "cases") ?? throw reader.Error(root, "'cases' is missing: list the cases, each with at least an id and a goal.");
        if (casesNode is not YamlSequenceNode sequence || sequence.Children.Count == 0)
        {
            throw reader.Error(casesNode, "'cases' must be a non-empty list of cases, each with at least an id and a goal.");
        }

        var cases = new List<EvalCase>();
        foreach (var item in sequence.Children)
        {
            cases.Add(ReadCase(reader, item, cases));
        }

        return settings.Build(name, file, hash, cases);
    }

    private static EvalDataset ParseJsonLines(string file, string name, string hash, string text)
    {
        var lines = text.Split('\n');
        Settings? settings = null;
        var cases = new List<EvalCase>();
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                using var _ = JsonDocument.Parse(line);
            }
            catch (JsonException e)
            {
                throw new DatasetException(file, i + 1, (e.BytePositionInLine ?? 0) + 1, $"invalid JSON: {e.Message.Split(" LineNumber:")[0].Trim()} Each line of a .jsonl dataset is one case as a JSON object.");
            }

            var reader = new Reader(file, i);
            var node = reader.Root(line);
            if (Find(node, "dataset") is { } datasetNode)
            {
                reader.RejectUnknownKeys(node, ["dataset"], "a dataset settings line");
                if (settings is not null || cases.Count > 0)
                {
                    throw reader.Error(node, "the {\"dataset\": {...}} line must come first, and only once.");
                }

                var map = reader.Mapping(datasetNode, "dataset");
                reader.RejectUnknownKeys(map, DatasetKeys.Where(k => k != "cases").ToArray(), "the dataset settings");
                settings = ReadSettings(reader, map);
                continue;
            }

            cases.Add(ReadCase(reader, node, cases));
        }

        if (cases.Count == 0)
        {
            throw new DatasetException(file, 1, 1, "the dataset has no cases: write one JSON object per line, each with at least an id and a goal.");
        }

        return (settings ?? new Settings(null, null, EvalDataset.DefaultMinPassRate, null, new Dictionary<string, IReadOnlyList<string>>())).Build(name, file, hash, cases);
    }

    private sealed record Settings(string? Version, string? Agent, double MinPassRate, ModelChoice? Judge, IReadOnlyDictionary<string, IReadOnlyList<string>> Knowledge)
    {
        public EvalDataset Build(string name, string file, string hash, IReadOnlyList<EvalCase> cases) =>
            new(name, file, Version is null ? hash : $"{Version}@{hash}", Agent, MinPassRate, Judge, Knowledge, cases);
    }

    private static Settings ReadSettings(Reader reader, YamlMappingNode root)
    {
        var agent = Find(root, "agent") is { } a ? reader.AgentName(a, "agent") : null;
        var version = Find(root, "version") is { } v ? reader.Scalar(v, "version") : null;
        var minPassRate = Find(root, "min_pass_rate") is { } m ? reader.Fraction(m, "min_pass_rate") : EvalDataset.DefaultMinPassRate;
        ModelChoice? judge = null;
        if (Find(root, "judge") is { } judgeNode)
        {
            var map = reader.Mapping(judgeNode, "judge");
            reader.RejectUnknownKeys(map, ["provider", "name"], "'judge'");
            judge = new ModelChoice(
                Find(map, "name") is { } n ? reader.Scalar(n, "judge.name") : null,
                Find(map, "provider") is { } p ? reader.Scalar(p, "judge.provider") : null);
        }

        var knowledge = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (Find(root, "setup") is { } setupNode)
        {
            var setup = reader.Mapping(setupNode, "setup");
            reader.RejectUnknownKeys(setup, ["knowledge"], "'setup'");
            if (Find(setup, "knowledge") is { } knowledgeNode)
            {
                foreach (var (key, value) in reader.Mapping(knowledgeNode, "setup.knowledge").Children)
                {
                    var collection = reader.Scalar(key, "a knowledge collection's name");
                    var paths = reader.Strings(value, $"setup.knowledge.{collection}");
                    var folder = Path.GetDirectoryName(Path.GetFullPath(reader.File))!;
                    foreach (var (path, node) in paths.Zip(value is YamlSequenceNode s ? s.Children : [value]))
                    {
                        if (!File.Exists(Path.Combine(folder, path)) && !Directory.Exists(Path.Combine(folder, path)))
                        {
                            throw reader.Error(node, $"setup.knowledge.{collection}: no file or folder '{path}' (paths are relative to the dataset file, here {folder}).");
                        }
                    }

                    knowledge[collection] = paths.Select(p => Path.GetFullPath(Path.Combine(folder, p))).ToList();
                }
            }
        }

        return new Settings(version, agent, minPassRate, judge, knowledge);
    }

    private static EvalCase ReadCase(Reader reader, YamlNode node, List<EvalCase> earlier)
    {
        var map = reader.Mapping(node, "a case");
        reader.RejectUnknownKeys(map, CaseKeys, "a case");
        var idNode = Find(map, "id") ?? throw reader.Error(map, "a case needs an 'id': a short name that stays the same from run to run (results are compared by it).");
        var id = reader.Scalar(idNode, "id");
        if (!CaseIdPattern().IsMatch(id))
        {
            throw reader.Error(idNode, $"'{id}' is not a valid case id: use letters, digits, '-', '_' and '.', starting with a letter or digit.");
        }

        if (earlier.FirstOrDefault(c => c.Id == id) is { } twin)
        {
            throw reader.Error(idNode, $"case '{id}' is defined twice (also at line {twin.Line}); ids must be unique in a dataset.");
        }

        var goalNode = Find(map, "goal") ?? throw reader.Error(map, $"case '{id}' needs a 'goal': what the agent is asked, in words.");
        var goal = reader.Scalar(goalNode, "goal");
        if (string.IsNullOrWhiteSpace(goal))
        {
            throw reader.Error(goalNode, $"case '{id}' has an empty goal.");
        }

        return new EvalCase(
            id,
            goal.Trim(),
            Find(map, "input") is { } input ? JsonSerializer.SerializeToElement(YamlJson.ToJson(input)) : null,
            Find(map, "agent") is { } agent ? reader.AgentName(agent, "agent") : null,
            Find(map, "approve") is { } approve && reader.Boolean(approve, "approve"),
            Find(map, "expect") is { } expect ? ReadExpectations(reader, expect) : new CaseExpectations(),
            Find(map, "min_pass_rate") is { } rate ? reader.Fraction(rate, "min_pass_rate") : null,
            reader.LineOf(map));
    }

    private static CaseExpectations ReadExpectations(Reader reader, YamlNode node)
    {
        var map = reader.Mapping(node, "expect");
        reader.RejectUnknownKeys(map, ExpectKeys, "'expect'");
        var expect = new CaseExpectations();
        if (Find(map, "status") is { } status)
        {
            var text = reader.Scalar(status, "expect.status");
            expect = expect with
            {
                Status = Enum.TryParse<RunStatus>(text, ignoreCase: true, out var parsed) && parsed != RunStatus.Running
                    ? parsed
                    : throw reader.Error(status, $"expect.status must be completed, failed, escalated or cancelled, not '{text}'."),
            };
        }

        if (Find(map, "answer") is { } answerNode)
        {
            var answer = reader.Mapping(answerNode, "expect.answer");
            reader.RejectUnknownKeys(answer, AnswerKeys, "'expect.answer'");
            expect = expect with
            {
                Exact = Find(answer, "exact") is { } exact ? reader.Scalar(exact, "expect.answer.exact") : null,
                Contains = Find(answer, "contains") is { } contains ? reader.Strings(contains, "expect.answer.contains") : [],
                NotContains = Find(answer, "not_contains") is { } notContains ? reader.Strings(notContains, "expect.answer.not_contains") : [],
                Matches = Find(answer, "regex") is { } regex ? reader.Regexes(regex, "expect.answer.regex") : [],
            };
        }

        if (Find(map, "output_schema") is { } schemaNode)
        {
            try
            {
                expect = expect with { OutputSchema = JsonSchema.FromText(YamlJson.ToJson(schemaNode)?.ToJsonString() ?? "null") };
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw reader.Error(schemaNode, $"expect.output_schema is not a valid JSON Schema: {e.Message}");
            }
        }

        if (Find(map, "tools") is { } toolsNode)
        {
            var tools = reader.Mapping(toolsNode, "expect.tools");
            reader.RejectUnknownKeys(tools, ["called", "not_called"], "'expect.tools'");
            expect = expect with
            {
                Called = Find(tools, "called") is { } called ? ReadCalled(reader, called) : [],
                NotCalled = Find(tools, "not_called") is { } notCalled ? reader.Strings(notCalled, "expect.tools.not_called") : [],
            };
        }

        return expect with
        {
            MaxSteps = Find(map, "max_steps") is { } steps ? reader.WholeNumber(steps, "expect.max_steps", 1, 1000) : null,
            MaxTokens = Find(map, "max_tokens") is { } tokens ? reader.WholeNumber(tokens, "expect.max_tokens", 1, 100_000_000) : null,
            MaxCost = Find(map, "max_cost") is { } cost ? reader.Dollars(cost, "expect.max_cost") : null,
            MaxLatency = Find(map, "max_latency") is { } latency ? reader.Duration(latency, "expect.max_latency") : null,
            Rubric = Find(map, "rubric") is { } rubric ? ReadRubric(reader, rubric) : null,
        };
    }

    private static List<ToolExpectation> ReadCalled(Reader reader, YamlNode node)
    {
        var items = node is YamlSequenceNode sequence ? sequence.Children : (IList<YamlNode>)[node];
        var called = new List<ToolExpectation>();
        foreach (var item in items)
        {
            if (item is YamlScalarNode)
            {
                called.Add(new ToolExpectation(reader.Scalar(item, "a tool in expect.tools.called"), null));
                continue;
            }

            var map = reader.Mapping(item, "a tool in expect.tools.called (a name, or { name: TOOL, arguments: {...} })");
            reader.RejectUnknownKeys(map, ["name", "arguments"], "a tool in expect.tools.called");
            var name = Find(map, "name") is { } n ? reader.Scalar(n, "name") : throw reader.Error(map, "a tool in expect.tools.called needs a 'name'.");
            JsonElement? arguments = null;
            if (Find(map, "arguments") is { } argumentsNode)
            {
                reader.Mapping(argumentsNode, "arguments");
                arguments = JsonSerializer.SerializeToElement(YamlJson.ToJson(argumentsNode));
            }

            called.Add(new ToolExpectation(name, arguments));
        }

        return called;
    }

    private static Rubric ReadRubric(Reader reader, YamlNode node)
    {
        if (node is YamlScalarNode)
        {
            return new Rubric(reader.Scalar(node, "expect.rubric"), Rubric.DefaultMinScore);
        }

        var map = reader.Mapping(node, "expect.rubric");
        reader.RejectUnknownKeys(map, ["criteria", "min_score"], "'expect.rubric'");
        var criteria = Find(map, "criteria") is { } c ? reader.Scalar(c, "expect.rubric.criteria") : throw reader.Error(map, "expect.rubric needs 'criteria': what a good answer does, in words.");
        if (string.IsNullOrWhiteSpace(criteria))
        {
            throw reader.Error(map, "expect.rubric.criteria is empty.");
        }

        return new Rubric(criteria.Trim(), Find(map, "min_score") is { } s ? reader.Fraction(s, "expect.rubric.min_score") : Rubric.DefaultMinScore);
    }

    private static YamlNode? Find(YamlNode map, string key) =>
        map is YamlMappingNode mapping && mapping.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")]
    private static partial Regex CaseIdPattern();

    [GeneratedRegex("^(?<number>[0-9]+(\\.[0-9]+)?)(?<unit>ms|s|m|h)$")]
    private static partial Regex DurationPattern();

    [GeneratedRegex("^[a-z][a-z0-9-]*$")]
    private static partial Regex AgentNamePattern();

    private sealed class Reader(string file, int lineOffset)
    {
        public string File { get; } = file;

        public YamlMappingNode Root(string yaml)
        {
            var lines = yaml.Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                var indent = lines[i].Length - lines[i].TrimStart(' ', '\t').Length;
                if (lines[i].AsSpan(0, indent).Contains('\t'))
                {
                    throw new DatasetException(File, i + 1 + lineOffset, lines[i].IndexOf('\t', StringComparison.Ordinal) + 1, "invalid YAML: a tab is used for indentation; indent with spaces.");
                }
            }

            var stream = new YamlStream();
            var parser = new Parser(new StringReader(yaml));
            try
            {
                stream.Load(parser);
            }
            catch (YamlException e)
            {
                var problem = e.InnerException is { } inner ? $"{e.Message} {inner.Message}" : e.Message;
                throw new DatasetException(File, e.Start.Line + lineOffset, e.Start.Column, $"invalid YAML: {problem.Trim()}");
            }
            catch (InvalidOperationException e)
            {
                var at = parser.Current?.Start;
                throw new DatasetException(File, (at?.Line ?? 1) + lineOffset, at?.Column ?? 1, $"invalid YAML: the document is malformed near here (an unclosed bracket or quote?): {e.Message}");
            }

            if (stream.Documents.Count == 0)
            {
                throw new DatasetException(File, 1 + lineOffset, 1, "the file is empty; a dataset needs 'cases'.");
            }

            return Mapping(stream.Documents[0].RootNode, lineOffset == 0 ? "a dataset" : "a line of a .jsonl dataset");
        }

        public int LineOf(YamlNode node) => (int)node.Start.Line + lineOffset;

        public DatasetException Error(YamlNode node, string problem) => new(File, node.Start.Line + lineOffset, node.Start.Column, problem);

        public YamlMappingNode Mapping(YamlNode node, string what) =>
            node as YamlMappingNode ?? throw Error(node, $"{what} must be a mapping of keys to values.");

        public void RejectUnknownKeys(YamlMappingNode map, string[] allowed, string where)
        {
            foreach (var key in map.Children.Keys)
            {
                var name = (key as YamlScalarNode)?.Value;
                if (name is null || !allowed.Contains(name))
                {
                    throw Error(key, $"unknown key '{name}' in {where}. Allowed keys: {string.Join(", ", allowed)}.");
                }
            }
        }

        public string Scalar(YamlNode node, string what) =>
            node is YamlScalarNode { Value: { } value } ? value : throw Error(node, $"{what} must be a single value.");

        public List<string> Strings(YamlNode node, string what) => node switch
        {
            YamlScalarNode => [Scalar(node, what)],
            YamlSequenceNode sequence => sequence.Children.Select(c => Scalar(c, $"each item of {what}")).ToList(),
            _ => throw Error(node, $"{what} must be a text or a list of texts."),
        };

        public List<Regex> Regexes(YamlNode node, string what)
        {
            var items = node is YamlSequenceNode sequence ? sequence.Children : (IList<YamlNode>)[node];
            return items.Select(item =>
            {
                var pattern = Scalar(item, what);
                try
                {
                    return new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
                }
                catch (ArgumentException e)
                {
                    throw Error(item, $"{what} '{pattern}' is not a valid .NET regular expression: {e.Message}");
                }
            }).ToList();
        }

        public string AgentName(YamlNode node, string what)
        {
            var name = Scalar(node, what);
            return AgentNamePattern().IsMatch(name) ? name : throw Error(node, $"{what} '{name}' is not an agent name (the file name of agents/NAME.yaml: lower-case letters, digits and '-').");
        }

        public bool Boolean(YamlNode node, string what) => Scalar(node, what).ToLowerInvariant() switch
        {
            "true" or "yes" => true,
            "false" or "no" => false,
            var text => throw Error(node, $"{what} must be true or false, not '{text}'."),
        };

        public double Fraction(YamlNode node, string what)
        {
            var text = Scalar(node, what);
            return double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) && value is >= 0 and <= 1
                ? value
                : throw Error(node, $"{what} must be a number from 0 to 1 (like 0.8), not '{text}'.");
        }

        public int WholeNumber(YamlNode node, string what, int min, int max)
        {
            var text = Scalar(node, what);
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
                ? value
                : throw Error(node, $"{what} must be a whole number from {min} to {max.ToString("N0", CultureInfo.InvariantCulture)}, not '{text}'.");
        }

        public decimal Dollars(YamlNode node, string what)
        {
            var text = Scalar(node, what);
            return decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) && value >= 0
                ? value
                : throw Error(node, $"{what} must be an amount in US dollars written like 0.05 (no currency sign), not '{text}'.");
        }

        public TimeSpan Duration(YamlNode node, string what)
        {
            var text = Scalar(node, what);
            var match = DurationPattern().Match(text);
            if (!match.Success)
            {
                throw Error(node, $"{what} must be a duration like 500ms, 5s, 2m or 1h, not '{text}'.");
            }

            var number = double.Parse(match.Groups["number"].Value, CultureInfo.InvariantCulture);
            return match.Groups["unit"].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(number),
                "s" => TimeSpan.FromSeconds(number),
                "m" => TimeSpan.FromMinutes(number),
                _ => TimeSpan.FromHours(number),
            };
        }
    }
}

/// YAML values as JSON: plain scalars that read as JSON literals (numbers, true, false, null) keep
/// their type, quoted scalars are always strings, so `"17"` stays a string and `17` a number.
public static partial class YamlJson
{
    public static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(p => KeyValuePair.Create(((YamlScalarNode)p.Key).Value ?? "", ToJson(p.Value)))),
        YamlSequenceNode sequence => new JsonArray(sequence.Children.Select(ToJson).ToArray()),
        YamlScalarNode { Style: ScalarStyle.Plain, Value: var value } => value switch
        {
            null or "" or "~" or "null" => null,
            "true" => JsonValue.Create(true),
            "false" => JsonValue.Create(false),
            _ when NumberPattern().IsMatch(value) => JsonNode.Parse(value),
            _ => JsonValue.Create(value),
        },
        YamlScalarNode scalar => JsonValue.Create(scalar.Value ?? ""),
        _ => null,
    };

    [GeneratedRegex("^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?$")]
    private static partial Regex NumberPattern();
}
