using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Agentry.Contracts;
using Agentry.Agents.Tools;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Agentry.Llm;

/// A deterministic stand-in for an LLM, for the embedded default and demos. It reads the goal,
/// picks the offered function that fits it best, fills the arguments from the goal, and once the
/// tool results are in, answers from them. It never invents facts: what no tool can answer, it says
/// it cannot answer. Token counts are an estimate (about four characters a token). Asked to judge an
/// answer (JudgePrompt), it accepts any non-empty one: a placeholder, labelled as such in its reason.
/// Asked to learn about a user from a run (MemoryExtractionPrompt), it learns nothing. Asked to grade
/// an answer against an evaluation rubric (RubricPrompt), it gives any non-empty answer 1, and says so.
public sealed partial class OfflineChatModel : IChatCompletionService
{
    public const string ModelName = "agentry-offline";

    private static readonly HashSet<string> StopWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "the", "and", "for", "from", "with", "that", "this", "what", "when", "where", "which", "returns",
        "return", "such", "into", "over", "about", "your", "their", "there", "then", "than", "some", "does",
    };

    public IReadOnlyDictionary<string, object?> Attributes { get; } = new Dictionary<string, object?> { ["ModelId"] = ModelName };

    public Task<IReadOnlyList<ChatMessageContent>> GetChatMessageContentsAsync(
        ChatHistory chatHistory,
        PromptExecutionSettings? executionSettings = null,
        Kernel? kernel = null,
        CancellationToken cancellationToken = default)
    {
        List<KernelFunctionMetadata> functions = kernel?.Plugins.GetFunctionsMetadata().ToList() ?? [];
        var reply = Reply(chatHistory, functions);
        reply.Metadata = new Dictionary<string, object?>
        {
            [AgentChat.UsageMetadataKey] = new TokenUsage(EstimateTokens(chatHistory, functions), EstimateTokens(reply)),
        };
        return Task.FromResult<IReadOnlyList<ChatMessageContent>>([reply]);
    }

    public async IAsyncEnumerable<StreamingChatMessageContent> GetStreamingChatMessageContentsAsync(
        ChatHistory chatHistory,
        PromptExecutionSettings? executionSettings = null,
        Kernel? kernel = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var replies = await GetChatMessageContentsAsync(chatHistory, executionSettings, kernel, cancellationToken);
        foreach (var reply in replies)
        {
            yield return new StreamingChatMessageContent(reply.Role, reply.Content, reply, modelId: ModelName, metadata: reply.Metadata);
        }
    }

    private static ChatMessageContent Reply(ChatHistory history, IReadOnlyList<KernelFunctionMetadata> functions)
    {
        if (JudgePrompt.IsJudgeRequest(history))
        {
            return Judge(history);
        }

        if (RubricPrompt.IsRubricRequest(history))
        {
            return GradeRubric(history);
        }

        // It cannot tell a durable fact about a user from anything else, so it claims to have learned nothing.
        if (MemoryExtractionPrompt.IsExtractionRequest(history))
        {
            return new ChatMessageContent(AuthorRole.Assistant, MemoryExtractionPrompt.Serialize([]));
        }

        if (history.LastOrDefault() is { Role: var role, Content: { } request } && role == AuthorRole.User
            && request.StartsWith(PlanText.PlanRequestOpening, StringComparison.Ordinal))
        {
            return MakePlan(history, functions);
        }

        var results = history.SelectMany(m => m.Items.OfType<FunctionResultContent>()).ToList();
        var goal = history.FirstOrDefault(m => m.Role == AuthorRole.User)?.Content ?? "";
        if (results.Count > 0)
        {
            return results.Any(r => r.FunctionName == SearchKnowledge) ? AnswerFromKnowledge(results, goal) : Answer(results);
        }

        if (ShouldSearchKnowledge(functions, goal) is { } search)
        {
            var knowledgeCall = new FunctionCallContent(search.Name, search.PluginName, $"call_{history.Count(m => m.Role == AuthorRole.Assistant) + 1}_1",
                new KernelArguments { ["query"] = JsonSerializer.SerializeToElement(goal.Trim()) });
            return new ChatMessageContent(AuthorRole.Assistant,
                [new TextContent("The goal is a question and the agent has a knowledge base; searching it first."), knowledgeCall]);
        }

        var assistantTurns = history.Count(m => m.Role == AuthorRole.Assistant);
        if (TasksIn(goal) is { Count: > 1 } tasks && tasks.Select(t => BestMatch(functions, t)).ToList() is var picks && picks.All(p => p.Match is not null))
        {
            // A goal that lists several tasks (as '- ' lines or separated by ';') gets one call per task, in parallel.
            var items = new ChatMessageContentItemCollection
            {
                new TextContent($"The goal lists {tasks.Count} tasks; calling {string.Join(", ", picks.Select(p => p.Function.Name))} for them in parallel."),
            };
            for (var i = 0; i < picks.Count; i++)
            {
                items.Add(new FunctionCallContent(picks[i].Function.Name, picks[i].Function.PluginName, $"call_{assistantTurns + 1}_{i + 1}", picks[i].Match!.Arguments));
            }

            return new ChatMessageContent(AuthorRole.Assistant, items);
        }

        var choice = BestMatch(functions, goal);
        if (choice.Match is null)
        {
            var offered = functions.Count == 0 ? "no tools" : "the tools " + string.Join(", ", functions.Select(f => f.Name));
            return new ChatMessageContent(AuthorRole.Assistant,
                $"The offline model could not match this goal to {offered}, and it cannot answer on its own. "
                + "Configure a real model (Llm__Endpoint and Llm__Model) for open-ended goals.");
        }

        var call = new FunctionCallContent(choice.Function.Name, choice.Function.PluginName, $"call_{assistantTurns + 1}_1", choice.Match.Arguments);
        var thought = $"The goal fits the {choice.Function.Name} tool ({choice.Match.Because}); calling it.";
        return new ChatMessageContent(AuthorRole.Assistant, [new TextContent(thought), call]);
    }

    /// A plan of one step per offered function that fits the goal, all independent. A revised plan
    /// leaves out every tool that already gave a result, failed ones included: the offline model has
    /// no better idea of its own, so what it could not do is reported in the answer.
    private static ChatMessageContent MakePlan(ChatHistory history, IReadOnlyList<KernelFunctionMetadata> functions)
    {
        var goal = history.FirstOrDefault(m => m.Role == AuthorRole.User)?.Content ?? "";
        var tried = history.SelectMany(m => m.Items.OfType<FunctionResultContent>()).Select(r => r.FunctionName).ToHashSet(StringComparer.Ordinal);
        if (!tried.Contains(SearchKnowledge) && ShouldSearchKnowledge(functions, goal) is not null)
        {
            var search = new { description = "Use search_knowledge: the goal is a question and the agent has a knowledge base.", tool = SearchKnowledge, arguments = new Dictionary<string, object> { ["query"] = goal.Trim() } };
            return new ChatMessageContent(AuthorRole.Assistant, JsonSerializer.Serialize(new { steps = new[] { search } }));
        }

        var steps = functions
            .Where(f => !tried.Contains(f.Name) && f.Name != SearchKnowledge)
            .Select(f => (Function: f, Match: Match(f, goal)))
            .Where(c => c.Match is not null)
            .OrderByDescending(c => c.Match!.Score)
            .ThenBy(c => c.Function.Name, StringComparer.Ordinal)
            .Select(c => new
            {
                description = $"Use {c.Function.Name}: {c.Match!.Because}.",
                tool = c.Function.Name,
                arguments = c.Match.Arguments.ToDictionary(a => a.Key, a => a.Value),
            })
            .ToList();
        return new ChatMessageContent(AuthorRole.Assistant, JsonSerializer.Serialize(new { steps }));
    }

    // No judgement at all: the offline model cannot tell a right answer from a wrong one, so it
    // accepts any non-empty answer, and says so in its reason.
    private static ChatMessageContent Judge(ChatHistory history)
    {
        var answered = JudgePrompt.AnswerOf(history).Length > 0;
        var verdict = answered
            ? new JudgeVerdict(true, 1.0, "The offline model does not judge answers: it accepts any non-empty answer. Configure a real model for a real judgement.")
            : new JudgeVerdict(false, 0.0, "The answer is empty (the offline model only checks that an answer was given).");
        return new ChatMessageContent(AuthorRole.Assistant, JudgePrompt.Serialize(verdict));
    }

    // As with the judge: no grading at all, said in the reason, so a table never passes it off as one.
    private static ChatMessageContent GradeRubric(ChatHistory history)
    {
        var grade = RubricPrompt.AnswerOf(history).Length > 0
            ? new RubricGrade(1.0, "The offline model does not grade rubrics: it gives any non-empty answer 1. Configure a real model as the judge for a real grade.")
            : new RubricGrade(0.0, "The answer is empty (the offline model only checks that an answer was given).");
        return new ChatMessageContent(AuthorRole.Assistant, RubricPrompt.Serialize(grade));
    }

    private static ChatMessageContent Answer(List<FunctionResultContent> results)
    {
        var texts = results.Select(r => (Tool: r.FunctionName is { } name ? SubAgentTools.ToolOfFunction(name) : "tool", Text: ToolOutcomeText.Unwrap(r.Result?.ToString() ?? ""))).ToList();
        var failures = texts.Where(t => ToolOutcomeText.IsError(t.Text, out _)).ToList();
        string answer;
        if (failures.Count > 0)
        {
            answer = "I could not complete the goal: " + string.Join("; ", failures.Select(f =>
            {
                ToolOutcomeText.IsError(f.Text, out var error);
                return $"{f.Tool} failed ({error})";
            })) + ".";
        }
        else
        {
            answer = texts.Count == 1
                ? texts[0].Text
                : string.Join(Environment.NewLine, texts.Select(t => $"{t.Tool}: {t.Text}"));
        }

        return new ChatMessageContent(AuthorRole.Assistant, answer);
    }

    private const string SearchKnowledge = "search_knowledge";

    /// The knowledge base comes first for a question that no other offered tool takes a specific
    /// argument from (an arithmetic expression, a URL, a time zone): "What is 17 * 23?" still goes to
    /// the calculator, "How many vacation days do I get?" to the knowledge base.
    private static KernelFunctionMetadata? ShouldSearchKnowledge(IReadOnlyList<KernelFunctionMetadata> functions, string goal)
    {
        var search = functions.FirstOrDefault(f => f.Name == SearchKnowledge);
        if (search is null || !IsQuestion(goal))
        {
            return null;
        }

        var specific = functions.Where(f => f.Name != SearchKnowledge).Any(f => Match(f, goal) is { Specific: true });
        return specific ? null : search;
    }

    private static bool IsCitation(string line) => CitationLine().IsMatch(line.Trim());

    private static bool IsQuestion(string goal)
    {
        var text = goal.Trim();
        return text.EndsWith('?') || QuestionOpening().IsMatch(text);
    }

    /// The best passage's most relevant sentence, quoted with its citation. The offline model does
    /// not compose answers; it says so, so that nobody mistakes the quote for a model's answer.
    private static ChatMessageContent AnswerFromKnowledge(List<FunctionResultContent> results, string goal)
    {
        var found = results.Last(r => r.FunctionName == SearchKnowledge);
        var text = ToolOutcomeText.Unwrap(found.Result?.ToString() ?? "");
        if (ToolOutcomeText.IsError(text, out var error))
        {
            return new ChatMessageContent(AuthorRole.Assistant, $"I could not search the knowledge base: {error}");
        }

        // The tool's output: a header line, then each passage under its "[source, passage N]" line.
        var lines = text.Split('\n');
        var at = Array.FindIndex(lines, IsCitation);
        if (at < 0)
        {
            return new ChatMessageContent(AuthorRole.Assistant,
                "The knowledge base has no passage about this, and the offline model cannot answer on its own.");
        }

        var citation = lines[at].Trim();
        var passage = lines.Skip(at + 1).TakeWhile(line => !IsCitation(line) && !line.StartsWith("(Not searched", StringComparison.Ordinal));
        var goalWords = Words(goal);
        var sentence = Paragraphs(passage)
            .SelectMany(paragraph => SentenceEnd().Split(paragraph))
            .Select(s => s.Trim().TrimStart('-', '*', ' '))
            .Where(s => s.Length > 0)
            .Select((s, i) => (Text: s, Order: i, Hits: Words(s).Count(w => goalWords.Any(g => SameWord(g, w)))))
            .OrderByDescending(s => s.Hits).ThenBy(s => s.Order)
            .Select(s => s.Text)
            .FirstOrDefault() ?? "";
        return new ChatMessageContent(AuthorRole.Assistant,
            $"\"{sentence}\" {citation}\n(Quoted by the offline model from the best passage of the knowledge base; it does not compose answers.)");
    }

    /// Markdown's hard-wrapped lines joined back into paragraphs (a sentence may span lines); headings
    /// are left out, and each list item is a paragraph of its own.
    private static List<string> Paragraphs(IEnumerable<string> lines)
    {
        var paragraphs = new List<string>();
        var current = new StringBuilder();
        void End()
        {
            if (current.Length > 0)
            {
                paragraphs.Add(current.ToString());
                current.Clear();
            }
        }

        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                End();
                continue;
            }

            if (line.StartsWith("- ", StringComparison.Ordinal) || line.StartsWith("* ", StringComparison.Ordinal) || ListItem().IsMatch(line))
            {
                End();
            }

            current.Append(current.Length > 0 ? " " : "").Append(line);
        }

        End();
        return paragraphs;
    }

    private sealed record FunctionMatch(double Score, KernelArguments Arguments, string Because, bool Specific = false);

    // search_knowledge is chosen by its own rule (ShouldSearchKnowledge), never by matching words.
    private static (KernelFunctionMetadata Function, FunctionMatch? Match) BestMatch(IReadOnlyList<KernelFunctionMetadata> functions, string goal) =>
        functions
            .Where(f => f.Name != SearchKnowledge)
            .Select(f => (Function: f, Match: Match(f, goal)))
            .Where(c => c.Match is not null)
            .OrderByDescending(c => c.Match!.Score)
            .ThenBy(c => c.Function.Name, StringComparer.Ordinal)
            .FirstOrDefault();

    /// The tasks a goal lists: its "- " bullet lines, or else its parts separated by ';'.
    private static List<string> TasksIn(string goal)
    {
        var bullets = goal.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("- ", StringComparison.Ordinal)).Select(l => l[2..].Trim()).ToList();
        return bullets.Count > 1 ? bullets : [.. goal.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
    }

    /// Null when a required argument cannot be filled from the goal.
    private static FunctionMatch? Match(KernelFunctionMetadata function, string goal)
    {
        var arguments = new KernelArguments();
        var score = 0.0;
        var specific = false;
        var reasons = new List<string>();
        foreach (var parameter in function.Parameters)
        {
            var extracted = Extract(parameter, goal);
            if (extracted is null)
            {
                if (parameter.IsRequired)
                {
                    return null;
                }

                continue;
            }

            arguments[parameter.Name] = JsonSerializer.SerializeToElement(extracted.Value.Value);
            score += extracted.Value.Strength;
            specific |= extracted.Value.Strength > 0;
            if (extracted.Value.Strength > 0)
            {
                reasons.Add($"{parameter.Name} '{extracted.Value.Value}' found in it");
            }
        }

        var goalWords = Words(goal);
        var nameHits = Words(function.Name.Replace('_', ' ')).Where(w => goalWords.Any(g => SameWord(g, w))).ToList();
        var descriptionHits = Words(function.Description).Except(nameHits).Where(w => goalWords.Any(g => SameWord(g, w))).ToList();
        score += (2 * nameHits.Count) + descriptionHits.Count;
        if (nameHits.Count + descriptionHits.Count > 0)
        {
            reasons.Add("it mentions " + string.Join(", ", nameHits.Concat(descriptionHits).Select(w => $"'{w}'")));
        }

        return score > 0 ? new FunctionMatch(score, arguments, string.Join("; ", reasons), specific) : null;
    }

    private static readonly HashSet<string> NotFreeText = ["path", "content", "code", "sql", "command"];

    private static (string Value, double Strength)? Extract(KernelParameterMetadata parameter, string goal)
    {
        var schema = parameter.Schema?.RootElement;
        var format = schema?.TryGetProperty("format", out var f) == true ? f.GetString() : null;
        var description = parameter.Description ?? "";
        var name = parameter.Name.ToLowerInvariant();

        if (format == "uri" || name.Contains("url", StringComparison.Ordinal))
        {
            var url = UrlPattern().Match(goal);
            return url.Success ? (url.Value.TrimEnd('.', ',', ';', ')', '?', '!'), 5) : null;
        }

        if (name.Contains("expression", StringComparison.Ordinal) || description.Contains("arithmetic", StringComparison.OrdinalIgnoreCase))
        {
            return ArithmeticIn(goal) is { } expression ? (expression, 5) : null;
        }

        if (name.Contains("zone", StringComparison.Ordinal))
        {
            return TimeZoneIn(goal) is { } zone ? (zone, 2) : null;
        }

        // An identifier (order_id, ticket_id): the first number in the goal, such as the 1042 of
        // "Refund order 1042".
        if (name == "id" || name.EndsWith("_id", StringComparison.Ordinal))
        {
            var number = NumberPattern().Match(goal);
            return number.Success ? (number.Value, 3) : null;
        }

        if (schema?.TryGetProperty("enum", out var options) == true)
        {
            var option = options.EnumerateArray().Select(o => o.ToString()).FirstOrDefault(o => goal.Contains(o, StringComparison.OrdinalIgnoreCase));
            return option is null ? null : (option, 2);
        }

        // A program the goal quotes (```...``` or `...`) is the code to run (run_python, run_shell).
        if (name is "code" or "command" && CodePattern().Match(goal) is { Success: true } quoted)
        {
            return (quoted.Groups["code"].Value.Trim(), 5);
        }

        // The goal as a whole can be a topic or a question, never a file path, a program or a query:
        // a tool that needs one of those is left to a real model.
        if (NotFreeText.Contains(name))
        {
            return null;
        }

        var type = schema?.TryGetProperty("type", out var t) == true ? t.GetString() : "string";
        return type == "string" && goal.Trim().Length > 0 ? (goal.Trim(), 0) : null;
    }

    /// The longest run of the goal that reads as arithmetic, with number words turned into symbols.
    public static string? ArithmeticIn(string goal)
    {
        var text = goal;
        foreach (var (words, symbol) in OperatorWords)
        {
            text = Regex.Replace(text, $@"\b{words}\b", $" {symbol} ", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        }

        text = TimesLetterPattern().Replace(text, "$1 * $2");
        return ArithmeticPattern().Matches(text)
            .Select(m => WhitespacePattern().Replace(m.Value, " ").Trim())
            .Where(candidate => candidate.Any(char.IsDigit) && HasOperatorBetweenOperands(candidate))
            .OrderByDescending(candidate => candidate.Length)
            .FirstOrDefault();
    }

    private static readonly (string Words, string Symbol)[] OperatorWords =
    [
        ("to the power of", "^"), ("multiplied by", "*"), ("divided by", "/"), ("times", "*"),
        ("plus", "+"), ("minus", "-"), ("modulo", "%"), ("mod", "%"),
    ];

    private static bool HasOperatorBetweenOperands(string candidate) =>
        OperatorBetweenOperandsPattern().IsMatch(candidate);

    /// The first zone, in the order the system lists them, whose name (its city, or its id when it has
    /// none) the goal mentions as a word.
    private static string? TimeZoneIn(string goal)
    {
        var (pattern, zones) = ZoneNames.Value;
        return pattern.Matches(goal).Select(m => zones[m.Value]).OrderBy(z => z.Order).Select(z => z.Id).FirstOrDefault();
    }

    // One pattern for every zone's name, built once: a pattern per zone per call (several hundred
    // zones, past Regex's cache) cost 4% of a step's CPU in the bench's profile.
    private static readonly Lazy<(Regex Pattern, Dictionary<string, (int Order, string Id)> Zones)> ZoneNames = new(() =>
    {
        var zones = new Dictionary<string, (int Order, string Id)>(StringComparer.OrdinalIgnoreCase);
        foreach (var zone in TimeZoneInfo.GetSystemTimeZones())
        {
            var name = zone.Id.Contains('/', StringComparison.Ordinal) ? zone.Id.Split('/').Last().Replace('_', ' ') : zone.Id;
            if (name.Length > 2)
            {
                zones.TryAdd(name, (zones.Count, zone.Id));
            }
        }

        // Longer names first, so that "New York" is not cut short by a shorter name at the same place.
        var names = string.Join('|', zones.Keys.OrderByDescending(n => n.Length).Select(Regex.Escape));
        return (new Regex($@"\b(?:{names})\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), zones);
    });

    private static List<string> Words(string text) =>
        WordPattern().Matches(text)
            .Select(m => m.Value.ToLowerInvariant())
            .Where(w => w.Length >= 3 && !StopWords.Contains(w))
            .Distinct(StringComparer.Ordinal)
            .ToList();

    // "fetch" and "fetches", "calculate" and "calculator": the same word for matching purposes.
    private static bool SameWord(string a, string b)
    {
        if (a == b)
        {
            return true;
        }

        var common = 0;
        while (common < a.Length && common < b.Length && a[common] == b[common])
        {
            common++;
        }

        return common >= 4 && common >= Math.Min(a.Length, b.Length) - 2;
    }

    private static int EstimateTokens(ChatHistory history, IReadOnlyList<KernelFunctionMetadata> functions)
    {
        var characters = history.Sum(m => CharactersOf(m)) + functions.Sum(f => f.Name.Length + (f.Description?.Length ?? 0) + 40);
        return Math.Max(1, (characters + 3) / 4);
    }

    private static int EstimateTokens(ChatMessageContent reply) => Math.Max(1, (CharactersOf(reply) + 3) / 4);

    private static int CharactersOf(ChatMessageContent message)
    {
        var builder = new StringBuilder();
        foreach (var item in message.Items)
        {
            builder.Append(item switch
            {
                TextContent text => text.Text,
                FunctionCallContent call => call.FunctionName + JsonSerializer.Serialize(call.Arguments?.ToDictionary(a => a.Key, a => a.Value)),
                FunctionResultContent result => result.Result?.ToString(),
                _ => "",
            });
        }

        return builder.Length;
    }

    [GeneratedRegex(@"```[a-z]*\s*(?<code>[\s\S]+?)```|`(?<code>[^`\n]+)`")]
    private static partial Regex CodePattern();

    [GeneratedRegex(@"https?://[^\s""'<>]+", RegexOptions.IgnoreCase)]
    private static partial Regex UrlPattern();

    [GeneratedRegex(@"[\d\.\s\(\)\+\-\*/\^%×÷]+")]
    private static partial Regex ArithmeticPattern();

    [GeneratedRegex(@"[\d\)]\s*(\*\*|[\+\-\*/\^%×÷])\s*[\d\(\-]")]
    private static partial Regex OperatorBetweenOperandsPattern();

    [GeneratedRegex(@"(\d)\s*[xX]\s*(\d)")]
    private static partial Regex TimesLetterPattern();

    [GeneratedRegex(@"\b\d+\b")]
    private static partial Regex NumberPattern();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhitespacePattern();

    [GeneratedRegex(@"[\p{L}\p{N}]+")]
    private static partial Regex WordPattern();

    [GeneratedRegex(@"^(what|how|when|where|who|whom|which|why|can|could|do|does|did|is|are|am|was|were|should|may|will|would)\b", RegexOptions.IgnoreCase)]
    private static partial Regex QuestionOpening();

    [GeneratedRegex(@"^\[.+, passage \d+\]$")]
    private static partial Regex CitationLine();

    [GeneratedRegex(@"^\d+[.)]\s")]
    private static partial Regex ListItem();

    [GeneratedRegex(@"(?<=[.!?])\s+")]
    private static partial Regex SentenceEnd();
}
