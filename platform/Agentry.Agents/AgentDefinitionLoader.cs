using System.Globalization;
using System.Text.RegularExpressions;
using Agentry.Agents.Pinning;
using Agentry.Agents.Tools;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Agentry.Agents;

/// Reads agents/NAME.yaml. Walks the YAML node tree by hand rather than deserializing, so that
/// every problem (a syntax error, an unknown key, an unknown tool, a bad limit) names its line.
public static partial class AgentDefinitionLoader
{
    private static readonly string[] TopLevelKeys =
        ["name", "description", "instructions", "model", "strategy", "tools", "limits", "notify", "evaluation", "memory", "approval", "triggers", "sandbox"];

    /// With the tool catalog, tool policies are checked against what each tool is: read_only on a
    /// tool that always changes something, or allowed_hosts on one that reaches no host, is an error.
    public static AgentDefinition LoadFile(string path, ToolCatalog tools, ISet<string>? knownProviders = null) =>
        Parse(path, File.ReadAllText(path), tools, knownProviders);

    public static AgentDefinition Parse(string file, string yaml, ToolCatalog tools, ISet<string>? knownProviders = null) =>
        Parse(file, yaml, tools.Names.ToHashSet(StringComparer.Ordinal), knownProviders, tools);

    /// knownProviders: the model providers configured (see ModelProviders.Names); null skips that check.
    /// Sub-agents (`agent:NAME`) are checked against the other agents by AgentCatalog.
    public static AgentDefinition Parse(string file, string yaml, ISet<string> knownTools, ISet<string>? knownProviders = null) =>
        Parse(file, yaml, knownTools, knownProviders, catalog: null);

    private static AgentDefinition Parse(string file, string yaml, ISet<string> knownTools, ISet<string>? knownProviders, ToolCatalog? catalog)
    {
        var expectedName = Path.GetFileNameWithoutExtension(file);
        var reader = new Reader(file);
        var root = reader.Root(yaml);

        reader.RejectUnknownKeys(root, TopLevelKeys, "an agent definition");

        if (root.Find("name") is { } nameNode && reader.Scalar(nameNode, "name") != expectedName)
        {
            throw reader.Error(nameNode, $"name '{reader.Scalar(nameNode, "name")}' does not match the file name; an agent is named after its file ('{expectedName}').");
        }

        if (!AgentNamePattern().IsMatch(expectedName))
        {
            throw new AgentDefinitionException(file, 1, 1, $"'{expectedName}' is not a valid agent name: use lower-case letters, digits and '-', starting with a letter.");
        }

        var description = root.Find("description") is { } d ? reader.Scalar(d, "description") : "";
        var instructions = root.Find("instructions") is { } i
            ? reader.Scalar(i, "instructions")
            : throw reader.Error(root.Node, "'instructions' is missing: tell the agent what it is for and how to work.");
        if (string.IsNullOrWhiteSpace(instructions))
        {
            throw reader.Error(root.Find("instructions")!, "'instructions' is empty.");
        }

        var strategy = ReadStrategy(reader, root.Find("strategy"));
        if (strategy != PlanningStrategy.PlanAndExecute
            && root.Find("limits") is YamlMappingNode limitsNode
            && new MappingView(limitsNode).Find("max_replans") is { } replans)
        {
            throw reader.Error(replans, "limits.max_replans applies only to 'strategy: plan-and-execute'; remove it or change the strategy.");
        }

        var tools = ReadTools(reader, root.Find("tools"), knownTools, catalog);
        return new AgentDefinition(
            expectedName,
            description.Trim(),
            instructions.Trim(),
            ReadModel(reader, root.Find("model"), knownProviders),
            strategy,
            tools,
            ReadLimits(reader, root.Find("limits")),
            ReadNotify(reader, root.Find("notify")),
            file)
        {
            Evaluation = ReadEvaluation(reader, root.Find("evaluation"), knownProviders, tools),
            Memory = ReadMemory(reader, root.Find("memory")),
            Approval = ReadApproval(reader, root.Find("approval")),
            Sandbox = ReadSandbox(reader, root.Find("sandbox")),
            Triggers = ReadTriggers(reader, root.Find("triggers")),
            Text = AgentDefinitionHash.Normalize(yaml),
            Hash = AgentDefinitionHash.Of(yaml),
        };
    }

    private static ModelChoice ReadModel(Reader reader, YamlNode? node, ISet<string>? knownProviders)
    {
        if (node is null)
        {
            return new ModelChoice(null);
        }

        if (node is YamlScalarNode)
        {
            return new ModelChoice(reader.Scalar(node, "model"));
        }

        var map = reader.Mapping(node, "model");
        reader.RejectUnknownKeys(map, ["provider", "name", "temperature", "cache", "fallbacks"], "'model'");
        var fallbacks = new List<FallbackModel>();
        if (map.Find("fallbacks") is { } fallbackNode)
        {
            if (fallbackNode is not YamlSequenceNode sequence)
            {
                throw reader.Error(fallbackNode, "model.fallbacks must be a list of models, like [ { provider: local, name: llama3.1 } ].");
            }

            foreach (var item in sequence.Children)
            {
                var fallback = reader.Mapping(item, "a model in model.fallbacks");
                reader.RejectUnknownKeys(fallback, ["provider", "name"], "a model in model.fallbacks");
                if (fallback.Find("provider") is null && fallback.Find("name") is null)
                {
                    throw reader.Error(item, "a model in model.fallbacks needs a provider, a name or both.");
                }

                fallbacks.Add(new FallbackModel(
                    ReadProvider(reader, fallback.Find("provider"), "model.fallbacks[].provider", knownProviders),
                    fallback.Find("name") is { } fn ? reader.Scalar(fn, "model.fallbacks[].name") : null));
            }
        }

        return new ModelChoice(
            map.Find("name") is { } n ? reader.Scalar(n, "model.name") : null,
            ReadProvider(reader, map.Find("provider"), "model.provider", knownProviders),
            map.Find("temperature") is { } t ? reader.Temperature(t, "model.temperature") : null,
            map.Find("cache") is { } c ? reader.Boolean(c, "model.cache") : null,
            fallbacks.Count > 0 ? fallbacks : null);
    }

    private static string? ReadProvider(Reader reader, YamlNode? node, string what, ISet<string>? knownProviders)
    {
        if (node is null)
        {
            return null;
        }

        var provider = reader.Scalar(node, what);
        if (knownProviders is not null && !knownProviders.Contains(provider))
        {
            throw reader.Error(node, $"unknown model provider '{provider}'. Configured providers: {string.Join(", ", knownProviders.Order(StringComparer.Ordinal))}. Declare it under Llm:Providers:{provider} (Kind, Endpoint, ApiKeyEnv).");
        }

        return provider;
    }

    private static PlanningStrategy ReadStrategy(Reader reader, YamlNode? node)
    {
        if (node is null)
        {
            return PlanningStrategy.React;
        }

        return reader.Scalar(node, "strategy") switch
        {
            "react" => PlanningStrategy.React,
            "plan-and-execute" => PlanningStrategy.PlanAndExecute,
            var other => throw reader.Error(node, $"strategy '{other}' is not supported; use 'react' or 'plan-and-execute'."),
        };
    }

    private static List<AgentTool> ReadTools(Reader reader, YamlNode? node, ISet<string> knownTools, ToolCatalog? catalog)
    {
        if (node is null)
        {
            return [];
        }

        if (node is not YamlSequenceNode sequence)
        {
            throw reader.Error(node, "'tools' must be a list of tool names, or of mappings with a tool's name and its policy.");
        }

        var tools = new List<AgentTool>();
        foreach (var item in sequence.Children)
        {
            // A tool is listed by name, or as a mapping with its name and its policy.
            var map = item is YamlMappingNode ? reader.Mapping(item, "a tool") : null;
            var nameNode = map is null ? item : map.Find("name") ?? throw reader.Error(item, "a tool given as a mapping needs a 'name'.");
            var name = reader.Scalar(nameNode, "a tool name");
            var subAgent = SubAgentTools.IsSubAgent(name);
            if (subAgent && !AgentNamePattern().IsMatch(name[SubAgentTools.Prefix.Length..]))
            {
                throw reader.Error(nameNode, $"'{name}' does not name an agent: write agent:NAME, where NAME is another agent's file name (lower-case letters, digits and '-').");
            }

            if (!subAgent && !knownTools.Contains(name) && catalog?.WhyWithheld(name) is not null)
            {
                // Offered nowhere on this host (the sandbox without isolation): the agent loads
                // without it, and the service says why at start and in /health/ready.
                continue;
            }

            if (!subAgent && !knownTools.Contains(name))
            {
                throw reader.Error(nameNode, $"unknown tool '{name}'. Known tools: {string.Join(", ", knownTools.Order(StringComparer.Ordinal))}; another agent is called as agent:NAME.");
            }

            if (tools.Any(t => t.Name == name))
            {
                throw reader.Error(nameNode, $"tool '{name}' is listed twice.");
            }

            var policy = map is null ? ToolPolicy.Unrestricted : ReadToolPolicy(reader, map, name, subAgent ? null : catalog?.Find(name));
            tools.Add(new AgentTool(name) { Policy = policy, Line = nameNode.Start.Line, Column = nameNode.Start.Column });
        }

        return tools;
    }

    /// descriptor: the tool's, to check the policy against what the tool does; null when unknown
    /// (names-only loading) or for a sub-agent.
    private static ToolPolicy ReadToolPolicy(Reader reader, MappingView map, string tool, ToolDescriptor? descriptor)
    {
        var subAgent = SubAgentTools.IsSubAgent(tool);
        reader.RejectUnknownKeys(map, subAgent ? ["name", "max_calls", "needs_approval"] : ["name", "allowed_hosts", "read_only", "max_calls", "needs_approval", "settings"],
            subAgent ? $"sub-agent '{tool}' (its own tools' policies apply inside the child run)" : $"tool '{tool}'");
        var hosts = map.Find("allowed_hosts") is { } hostsNode
            ? reader.Names(hostsNode, $"{tool}.allowed_hosts", HostPattern(), "a host name such as api.example.com or *.example.com, optionally with :port")
            : [];
        if (map.Find("allowed_hosts") is { } listed && descriptor is { ReachesHosts: false })
        {
            throw reader.Error(listed, $"{tool}.allowed_hosts does not apply: {tool} reaches no host named in its arguments. allowed_hosts is for http_get, http_post and http_request.");
        }

        var readOnly = map.Find("read_only") is { } readOnlyNode && reader.Boolean(readOnlyNode, $"{tool}.read_only");
        if (readOnly && descriptor is { CanBeReadOnly: false })
        {
            throw reader.Error(map.Find("read_only")!, $"{tool} changes something with every call, so it cannot be read_only: remove read_only: true, or remove {tool} from the agent's tools.");
        }

        return new ToolPolicy(
            hosts,
            ReadOnly: readOnly,
            MaxCallsPerRun: map.Find("max_calls") is { } maxCalls ? reader.PositiveInt(maxCalls, $"{tool}.max_calls", max: 10_000) : null,
            NeedsApproval: map.Find("needs_approval") is { } approval && reader.Boolean(approval, $"{tool}.needs_approval"))
        {
            Settings = map.Find("settings") is { } settings ? ReadToolSettings(reader, settings, tool, descriptor) : ToolPolicy.NoSettings,
        };
    }

    // Only the settings the tool declares, so that a misspelt limit is an error at load, not a
    // limit silently not applied.
    private static IReadOnlyDictionary<string, string> ReadToolSettings(Reader reader, YamlNode node, string tool, ToolDescriptor? descriptor)
    {
        var map = reader.Mapping(node, $"{tool}.settings");
        if (descriptor is { Settings.Count: 0 })
        {
            throw reader.Error(node, $"{tool} takes no settings: remove {tool}.settings.");
        }

        if (descriptor is not null)
        {
            reader.RejectUnknownKeys(map, [.. descriptor.Settings.Keys], $"{tool}.settings");
        }

        return map.Node.Children.ToDictionary(
            pair => reader.Scalar(pair.Key, $"a key of {tool}.settings"),
            pair => reader.Scalar(pair.Value, $"{tool}.settings.{(pair.Key as YamlScalarNode)?.Value}"),
            StringComparer.Ordinal);
    }

    private static AgentApproval ReadApproval(Reader reader, YamlNode? node)
    {
        var approval = AgentApproval.Default;
        if (node is null)
        {
            return approval;
        }

        var map = reader.Mapping(node, "approval");
        reader.RejectUnknownKeys(map, ["timeout", "on_timeout"], "'approval'");
        if (map.Find("timeout") is { } timeout)
        {
            approval = approval with { Timeout = reader.Duration(timeout, "approval.timeout") };
        }

        if (map.Find("on_timeout") is { } onTimeout)
        {
            approval = approval with
            {
                OnTimeout = reader.Scalar(onTimeout, "approval.on_timeout") switch
                {
                    "deny" => ApprovalTimeoutAction.Deny,
                    "escalate" => ApprovalTimeoutAction.Escalate,
                    var other => throw reader.Error(onTimeout, $"approval.on_timeout '{other}' is not known: use 'deny' (the calls waiting are denied and the run goes on) or 'escalate' (the run is handed to a person)."),
                },
            };
        }

        return approval;
    }

    private static AgentMemory ReadMemory(Reader reader, YamlNode? node)
    {
        var memory = AgentMemory.Default;
        if (node is null)
        {
            return memory;
        }

        var map = reader.Mapping(node, "memory");
        reader.RejectUnknownKeys(map, ["context_tokens", "recent_steps", "long_term", "knowledge", "retrieve"], "'memory'");
        if (map.Find("context_tokens") is { } tokens)
        {
            memory = memory with { ContextTokens = reader.PositiveInt(tokens, "memory.context_tokens", max: 2_000_000, min: 500) };
        }

        if (map.Find("recent_steps") is { } recent)
        {
            memory = memory with { RecentSteps = reader.PositiveInt(recent, "memory.recent_steps", max: 100, min: 0) };
        }

        if (map.Find("long_term") is { } longTerm)
        {
            memory = memory with { LongTerm = reader.Boolean(longTerm, "memory.long_term") };
        }

        if (map.Find("knowledge") is { } knowledge)
        {
            memory = memory with { Knowledge = reader.Names(knowledge, "memory.knowledge", CollectionPattern(), "a collection name (lower-case letters, digits, '-' and '_')") };
        }

        if (map.Find("retrieve") is { } retrieve)
        {
            if (memory.Knowledge.Count == 0)
            {
                throw reader.Error(retrieve, "memory.retrieve needs memory.knowledge: name the collections to retrieve from.");
            }

            memory = memory with { Retrieve = reader.PositiveInt(retrieve, "memory.retrieve", max: 50, min: 0) };
        }

        return memory;
    }

    private static AgentSandbox ReadSandbox(Reader reader, YamlNode? node)
    {
        if (node is null)
        {
            return AgentSandbox.Default;
        }

        var map = reader.Mapping(node, "sandbox");
        reader.RejectUnknownKeys(map, ["wall_time", "cpu_time", "memory", "processes", "output", "workspace", "outputs", "inputs", "allowed_hosts"], "'sandbox'");
        var inputs = new List<SandboxInput>();
        if (map.Find("inputs") is { } inputsNode)
        {
            if (inputsNode is not YamlSequenceNode sequence)
            {
                throw reader.Error(inputsNode, "sandbox.inputs must be a list like [ { name: repo, path: /srv/checkout } ].");
            }

            foreach (var item in sequence.Children)
            {
                var input = reader.Mapping(item, "an entry of sandbox.inputs");
                reader.RejectUnknownKeys(input, ["name", "path"], "an entry of sandbox.inputs");
                var name = input.Find("name") is { } n ? reader.Scalar(n, "sandbox.inputs[].name") : throw reader.Error(item, "an entry of sandbox.inputs needs a name (the folder under inputs/).");
                var path = input.Find("path") is { } p ? reader.Scalar(p, "sandbox.inputs[].path") : throw reader.Error(item, "an entry of sandbox.inputs needs a path (an absolute host folder).");
                if (!CollectionPattern().IsMatch(name) || inputs.Any(i => i.Name == name))
                {
                    throw reader.Error(input.Find("name")!, $"sandbox.inputs name '{name}' must be unique and made of lower-case letters, digits, '-' and '_'.");
                }

                if (!Path.IsPathFullyQualified(path) || path.Split('/').Contains(".."))
                {
                    throw reader.Error(input.Find("path")!, $"sandbox.inputs path '{path}' must be an absolute host path without '..'.");
                }

                inputs.Add(new SandboxInput(name, path));
            }
        }

        var outputs = map.Find("outputs") is { } outputsNode ? reader.Names(outputsNode, "sandbox.outputs", OutputPattern(), "a relative path or pattern such as report.md or results/*.csv") : [];
        return new AgentSandbox(
            map.Find("wall_time") is { } wall ? reader.Duration(wall, "sandbox.wall_time") : null,
            map.Find("cpu_time") is { } cpu ? reader.Duration(cpu, "sandbox.cpu_time") : null,
            map.Find("memory") is { } memory ? reader.Bytes(memory, "sandbox.memory", min: 16L << 20) : null,
            map.Find("processes") is { } processes ? reader.PositiveInt(processes, "sandbox.processes", max: 4096) : null,
            map.Find("output") is { } output ? reader.Bytes(output, "sandbox.output", min: 1024) : null,
            map.Find("workspace") is { } workspace ? reader.Bytes(workspace, "sandbox.workspace", min: 1L << 20) : null)
        {
            Outputs = outputs,
            Inputs = inputs,
            AllowedHosts = map.Find("allowed_hosts") is { } hostsNode
                ? reader.Names(hostsNode, "sandbox.allowed_hosts", HostPattern(), "a host name such as pypi.org or *.example.com, optionally with :port (443 otherwise)")
                : [],
        };
    }

    private static AgentLimits ReadLimits(Reader reader, YamlNode? node)
    {
        var limits = AgentLimits.Default;
        if (node is null)
        {
            return limits;
        }

        var map = reader.Mapping(node, "limits");
        reader.RejectUnknownKeys(map, ["max_steps", "max_tokens", "deadline", "max_replans", "max_cost"], "'limits'");
        if (map.Find("max_steps") is { } steps)
        {
            limits = limits with { MaxSteps = reader.PositiveInt(steps, "limits.max_steps", max: 1_000) };
        }

        if (map.Find("max_tokens") is { } tokens)
        {
            limits = limits with { MaxTokens = reader.PositiveInt(tokens, "limits.max_tokens", max: 100_000_000) };
        }

        if (map.Find("deadline") is { } deadline)
        {
            limits = limits with { Deadline = reader.Duration(deadline, "limits.deadline") };
        }

        if (map.Find("max_replans") is { } replans)
        {
            limits = limits with { MaxReplans = reader.PositiveInt(replans, "limits.max_replans", max: 20, min: 0) };
        }

        if (map.Find("max_cost") is { } cost)
        {
            limits = limits with { MaxCost = reader.Dollars(cost, "limits.max_cost") };
        }

        return limits;
    }

    private static AgentNotifications ReadNotify(Reader reader, YamlNode? node)
    {
        if (node is null)
        {
            return AgentNotifications.None;
        }

        var map = reader.Mapping(node, "notify");
        reader.RejectUnknownKeys(map, ["webhook", "slack", "email"], "'notify'");
        var email = new List<string>();
        if (map.Find("email") is { } emailNode)
        {
            // One address or a list of them.
            var items = emailNode is YamlSequenceNode sequence ? sequence.Children : [emailNode];
            if (items.Count == 0)
            {
                throw reader.Error(emailNode, "notify.email is an empty list: name at least one address, or remove it.");
            }

            foreach (var item in items)
            {
                var address = reader.Scalar(item, "an address in notify.email").Trim();
                if (!System.Net.Mail.MailAddress.TryCreate(address, out var parsed) || parsed.Address != address)
                {
                    throw reader.Error(item, $"'{address}' in notify.email is not an email address such as support@example.com.");
                }

                if (email.Contains(address, StringComparer.OrdinalIgnoreCase))
                {
                    throw reader.Error(item, $"'{address}' is listed twice in notify.email.");
                }

                email.Add(address);
            }
        }

        return new AgentNotifications(
            ReadUrl(reader, map.Find("webhook"), "notify.webhook"),
            ReadUrl(reader, map.Find("slack"), "notify.slack"),
            email.Count > 0 ? email : null);
    }

    private static Uri? ReadUrl(Reader reader, YamlNode? node, string what)
    {
        if (node is null)
        {
            return null;
        }

        var text = reader.Scalar(node, what);
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            // The URL itself is not repeated: a Slack webhook URL is a secret.
            throw reader.Error(node, what == "notify.webhook"
                ? $"notify.webhook '{text}' is not an absolute http or https URL."
                : $"{what} is not an absolute http or https URL (like https://hooks.slack.com/services/...).");
        }

        return url;
    }

    [GeneratedRegex("^[a-z][a-z0-9-]*$")]
    private static partial Regex AgentNamePattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$")]
    private static partial Regex CollectionPattern();

    [GeneratedRegex(@"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$")]
    private static partial Regex HostPattern();

    [GeneratedRegex(@"^(?!/)(?!.*(^|/)\.\.(/|$))[A-Za-z0-9._*/-]{1,200}$")]
    private static partial Regex OutputPattern();

    [GeneratedRegex(@"^(?<value>\d+)\s*(?<unit>KiB|MiB|GiB)$")]
    private static partial Regex BytesPattern();

    [GeneratedRegex(@"^(?<value>\d+(\.\d+)?)\s*(?<unit>ms|s|m|h)$")]
    private static partial Regex DurationPattern();

    private sealed record MappingView(YamlMappingNode Node)
    {
        public YamlNode? Find(string key) =>
            Node.Children.FirstOrDefault(pair => pair.Key is YamlScalarNode { Value: var k } && k == key).Value;
    }

    private sealed class Reader(string file)
    {
        public MappingView Root(string yaml)
        {
            // YAML forbids tabs in indentation; the parser reports them at 1:1, so find the line here.
            var lines = yaml.Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                var indent = lines[i].Length - lines[i].TrimStart(' ', '\t').Length;
                if (lines[i].AsSpan(0, indent).Contains('\t'))
                {
                    throw new AgentDefinitionException(file, i + 1, lines[i].IndexOf('\t', StringComparison.Ordinal) + 1, "invalid YAML: a tab is used for indentation; indent with spaces.");
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
                throw new AgentDefinitionException(file, e.Start.Line, e.Start.Column, $"invalid YAML: {problem.Trim()}");
            }
            catch (InvalidOperationException e)
            {
                // Some malformed documents (an unclosed [list], say) make YamlDotNet fail outside its own
                // exception type; the parser's last event is the best position there is.
                var at = parser.Current?.Start;
                throw new AgentDefinitionException(file, at?.Line ?? 1, at?.Column ?? 1, $"invalid YAML: the document is malformed near here (an unclosed bracket or quote?): {e.Message}");
            }

            if (stream.Documents.Count == 0)
            {
                throw new AgentDefinitionException(file, 1, 1, "the file is empty; an agent needs at least 'instructions'.");
            }

            return Mapping(stream.Documents[0].RootNode, "an agent definition");
        }

        public MappingView Mapping(YamlNode node, string what) =>
            node is YamlMappingNode map ? new MappingView(map) : throw Error(node, $"{what} must be a mapping of keys to values.");

        public void RejectUnknownKeys(MappingView map, string[] allowed, string where)
        {
            foreach (var key in map.Node.Children.Keys)
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

        public int PositiveInt(YamlNode node, string what, int max, int min = 1)
        {
            var text = Scalar(node, what);
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            {
                throw Error(node, $"{what} must be a whole number from {min} to {max.ToString("N0", CultureInfo.InvariantCulture)}, not '{text}'.");
            }

            return value;
        }

        public decimal Dollars(YamlNode node, string what)
        {
            var text = Scalar(node, what);
            if (!decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) || value <= 0 || value > 1_000_000)
            {
                throw Error(node, $"{what} must be an amount in US dollars, more than 0 and at most 1,000,000, written like 0.50 (no currency sign), not '{text}'.");
            }

            return value;
        }

        public double Fraction(YamlNode node, string what)
        {
            var text = Scalar(node, what);
            if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) || value < 0 || value > 1)
            {
                throw Error(node, $"{what} must be a number from 0 to 1, such as 0.7, not '{text}'.");
            }

            return value;
        }

        public double Temperature(YamlNode node, string what)
        {
            var text = Scalar(node, what);
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0 || value > 2)
            {
                throw Error(node, $"{what} must be a number from 0 to 2, not '{text}'.");
            }

            return value;
        }

        /// A list of distinct names, each matching the pattern.
        public List<string> Names(YamlNode node, string what, Regex pattern, string expected)
        {
            if (node is not YamlSequenceNode sequence)
            {
                throw Error(node, $"{what} must be a list.");
            }

            var names = new List<string>();
            foreach (var item in sequence.Children)
            {
                var name = Scalar(item, $"an entry of {what}");
                if (!pattern.IsMatch(name))
                {
                    throw Error(item, $"'{name}' in {what} is not {expected}.");
                }

                if (names.Contains(name))
                {
                    throw Error(item, $"'{name}' is listed twice in {what}.");
                }

                names.Add(name);
            }

            return names;
        }

        /// One text or a list of them, none empty, each with its node for errors.
        public List<(YamlNode Node, string Text)> TextItems(YamlNode node, string what)
        {
            var items = node is YamlSequenceNode sequence ? sequence.Children.ToList() : [node];
            if (items.Count == 0)
            {
                throw Error(node, $"{what} is an empty list: give at least one, or remove it.");
            }

            return items.Select(item => (item, Scalar(item, $"an entry of {what}") is { Length: > 0 } text
                ? text
                : throw Error(item, $"an entry of {what} is empty."))).ToList();
        }

        public List<string> Texts(YamlNode node, string what) => TextItems(node, what).Select(i => i.Text).ToList();

        public long Bytes(YamlNode node, string what, long min)
        {
            var text = Scalar(node, what);
            var match = BytesPattern().Match(text.Trim());
            var bytes = match.Success && long.TryParse(match.Groups["value"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value <= 1 << 20
                ? value << match.Groups["unit"].Value switch { "KiB" => 10, "MiB" => 20, _ => 30 }
                : -1;
            if (bytes < min || bytes > 64L << 30)
            {
                throw Error(node, $"{what} '{text}' is not a size from {min >> 10} KiB to 64 GiB; write it like 512KiB, 256MiB or 1GiB.");
            }

            return bytes;
        }

        public bool Boolean(YamlNode node, string what) =>
            Scalar(node, what) switch
            {
                "true" => true,
                "false" => false,
                var other => throw Error(node, $"{what} must be true or false, not '{other}'."),
            };

        public TimeSpan Duration(YamlNode node, string what)
        {
            var text = Scalar(node, what);
            var match = DurationPattern().Match(text.Trim());
            if (!match.Success)
            {
                throw Error(node, $"{what} '{text}' is not a duration; write it like 500ms, 30s, 5m or 2h.");
            }

            var value = double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
            var duration = match.Groups["unit"].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(value),
                "s" => TimeSpan.FromSeconds(value),
                "m" => TimeSpan.FromMinutes(value),
                _ => TimeSpan.FromHours(value),
            };
            if (duration <= TimeSpan.Zero || duration > TimeSpan.FromDays(7))
            {
                throw Error(node, $"{what} must be more than zero and at most 7 days, not '{text}'.");
            }

            return duration;
        }

        public AgentDefinitionException Error(YamlNode node, string problem) =>
            new(file, node.Start.Line, node.Start.Column, problem);

        public AgentDefinitionException Error(MappingView map, string problem) => Error(map.Node, problem);
    }
}
