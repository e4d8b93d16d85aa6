using System.Text.Json;
using Agentry.Contracts;
using Agentry.Llm;
using Agentry.Memory;
using Agentry.Agents;
using Agentry.Tests.Llm;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Memory;

/// ContextBuilder on the real SQLite store, counted with the real tokenizer; summaries come from the
/// OpenAI-compatible fake through the real connector, or from no model at all (the offline one).
public sealed class When_context_is_fitted_to_a_budget
{
    private const string Tenant = "tenant-a";
    private static readonly CancellationToken None = CancellationToken.None;
    private OpenAiFake _fake = null!;
    private TempFolder _folder = null!;
    private ServiceProvider? _services;

    [OneTimeSetUp]
    public void LoadTokenizer() => _ = new ContextTokens();

    [SetUp]
    public void Start()
    {
        _fake = OpenAiFake.Start();
        _folder = new TempFolder();
    }

    [TearDown]
    public async Task Stop()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        _fake.Dispose();
        _folder.Dispose();
    }

    /// The Memory service's registrations; with `withModel`, the fake is the agent's provider.
    private ServiceProvider Services(bool withModel = true)
    {
        var settings = new Dictionary<string, string?> { ["ConnectionStrings:sqlite"] = _folder.SqliteConnectionString };
        if (withModel)
        {
            settings["Llm:Providers:fake:Kind"] = "openai-compatible";
            settings["Llm:Providers:fake:Endpoint"] = _fake.BaseUrl.ToString();
            settings["Llm:Providers:fake:MaxRetries"] = "0";
            settings["Llm:Providers:fake:Timeout"] = "00:00:30";
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton(TimeProvider.System);
        services.AddMemory(configuration);
        _services = services.BuildServiceProvider();
        return _services;
    }

    private static AgentDefinition Agent(int budget, int recent = 2, string model = "model: { provider: fake, name: gpt-4o-mini }", string memory = "", string instructions = "Use the tools.") =>
        TestAgents.Parse("assistant", $"""
            instructions: {instructions}
            {model}
            tools: [calculator]
            memory:
              context_tokens: {budget}
              recent_steps: {recent}
            {memory}
            """);

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    /// Output of about 450 tokens, different for each step.
    private static string Output(int step) => $"Result of step {step}: " + string.Join(" ", Enumerable.Range(0, 150).Select(i => $"s{step}w{i}"));

    private static async Task RecordStepsAsync(ITranscriptStore store, Guid run, int from, int to)
    {
        for (var step = from; step <= to; step++)
        {
            var call = new ToolCall($"call_{step}", "calculator", Json($$"""{"expression":"{{step}} * 2"}"""));
            await store.RecordStepAsync(new StepPlanned(run, Tenant, "assistant", step, 20, $"Thought {step}.", [call], null, new TokenUsage(10, 5), "gpt-4o-mini"), None);
            await store.RecordToolResultAsync(new ToolResult(run, Tenant, "assistant", step, 20,
                [new ToolOutcome(call.CallId, "calculator", call.Arguments, Output(step), ToolErrorKind.None, null, TimeSpan.FromMilliseconds(3))]), None);
        }
    }

    private static async Task<AssembledContext> BuildAsync(IServiceProvider services, AgentDefinition agent, Guid run, int step, string goal = "Double every number from 1 to 20.", string? user = null)
    {
        var store = services.GetRequiredService<ITranscriptStore>();
        await store.StartRunAsync(new RunStart(run, Tenant, agent.Name, goal, null, DateTimeOffset.UtcNow), None);
        var view = await store.GetAsync(Tenant, run, None);
        return await services.GetRequiredService<ContextBuilder>().BuildAsync(agent, view, new ContextRequested(run, Tenant, agent.Name, step, goal, UserId: user), None);
    }

    /// The count the test makes itself, with the tokenizer of the agent's model.
    private static int Recount(IServiceProvider services, string model, AssembledContext context) =>
        ContextTokens.Count(services.GetRequiredService<ContextTokens>().For(model), context.Messages);

    private static ToolOutcome OutcomeOf(int step) =>
        new($"call_{step}", "calculator", Json($$"""{"expression":"{{step}} * 2"}"""), Output(step), ToolErrorKind.None, null, TimeSpan.FromMilliseconds(3));

    [Test]
    public async Task Should_keep_the_whole_transcript_verbatim_and_ask_no_model_when_it_fits()
    {
        var services = Services();
        var run = Guid.NewGuid();
        await RecordStepsAsync(services.GetRequiredService<ITranscriptStore>(), run, 1, 3);

        var context = await BuildAsync(services, Agent(8_000), run, 4);

        Assert.That(context.OverBudget, Is.Null);
        Assert.That((context.SummarizedSteps, _fake.RequestCount), Is.EqualTo((0, 0)));
        Assert.That(context.Messages.Where(m => m.Role == ContextRole.Tool).Select(m => m.Content),
            Is.EqualTo(new[] { 1, 2, 3 }.Select(s => ToolOutcomeText.Format(OutcomeOf(s)))));
        Assert.That(context.Tokens, Is.EqualTo(Recount(services, "gpt-4o-mini", context)).And.LessThanOrEqualTo(8_000));
        Assert.That(context.Tokens, Is.GreaterThan(900), "three outputs of about 450 tokens each were counted");
    }

    [Test]
    public async Task Should_summarize_the_older_steps_once_keep_the_latest_verbatim_and_extend_the_summary_later()
    {
        var services = Services();
        var store = services.GetRequiredService<ITranscriptStore>();
        var run = Guid.NewGuid();
        await RecordStepsAsync(store, run, 1, 6);
        _fake.ReplyWithAnswer("Steps 1 to 4 doubled 1, 2, 3 and 4 with the calculator.");
        var agent = Agent(1_500);

        var context = await BuildAsync(services, agent, run, 7);

        Assert.That(context.OverBudget, Is.Null);
        Assert.That(_fake.RequestCount, Is.EqualTo(1), "one summarization call");
        var request = _fake.Requests[0];
        Assert.That(request.Model, Is.EqualTo("gpt-4o-mini"));
        Assert.That(request.Messages[0].GetProperty("content").GetString(), Is.EqualTo(TranscriptSummarizer.Instructions));
        var prompt = request.Messages[1].GetProperty("content").GetString();
        Assert.That(prompt, Does.Contain("s1w0").And.Contain("s4w149").And.Not.Contain("s5w0"), "steps 1 to 4 are summarized, 5 and 6 are not");
        Assert.That(context.SummarizedSteps, Is.EqualTo(4));
        Assert.That(context.Messages.Any(m => m.Role == ContextRole.User && m.Content.Contains("Steps 1 to 4 doubled 1, 2, 3 and 4", StringComparison.Ordinal)));
        Assert.That(context.Messages.Where(m => m.Role == ContextRole.Tool).Select(m => m.Content),
            Is.EqualTo(new[] { 5, 6 }.Select(s => ToolOutcomeText.Format(OutcomeOf(s)))), "the latest two steps, verbatim");
        Assert.That(context.Messages.Where(m => m.Role == ContextRole.Assistant).SelectMany(m => m.ToolCalls ?? []).Select(c => c.CallId),
            Is.EqualTo(new[] { "call_5", "call_6" }));
        Assert.That(context.Tokens, Is.EqualTo(Recount(services, "gpt-4o-mini", context)).And.LessThanOrEqualTo(1_500));
        var stored = await services.GetRequiredService<ISummaryStore>().GetSummaryAsync(Tenant, run, 6, None);
        Assert.That((stored?.ThroughStep, stored?.Model, stored?.Text), Is.EqualTo((4, "gpt-4o-mini", "Steps 1 to 4 doubled 1, 2, 3 and 4 with the calculator.")));

        // The same step asked again (a redelivery) reuses the stored summary.
        var again = await BuildAsync(services, agent, run, 7);
        Assert.That(_fake.RequestCount, Is.EqualTo(1), "the stored summary was reused");
        Assert.That(again.Messages, Is.EqualTo(context.Messages).Using<ContextMessage>((a, b) => a.Role == b.Role && a.Content == b.Content));

        // One step later, step 5 has become old: the summary is extended with it alone.
        await RecordStepsAsync(store, run, 7, 7);
        _fake.ReplyWithAnswer("Steps 1 to 5 doubled 1 to 5.");
        var later = await BuildAsync(services, agent, run, 8);

        Assert.That(_fake.RequestCount, Is.EqualTo(2));
        var extension = _fake.Requests[1].Messages[1].GetProperty("content").GetString();
        Assert.That(extension, Does.Contain("Steps 1 to 4 doubled 1, 2, 3 and 4").And.Contain("s5w0").And.Not.Contain("s1w0").And.Not.Contain("s6w0"));
        Assert.That(later.SummarizedSteps, Is.EqualTo(5));
        Assert.That(later.Messages.Where(m => m.Role == ContextRole.Tool).Select(m => m.Content),
            Is.EqualTo(new[] { 6, 7 }.Select(s => ToolOutcomeText.Format(OutcomeOf(s)))));
        Assert.That(later.Tokens, Is.EqualTo(Recount(services, "gpt-4o-mini", later)).And.LessThanOrEqualTo(1_500));
        Assert.That((await services.GetRequiredService<ISummaryStore>().GetSummaryAsync(Tenant, run, 99, None))?.ThroughStep, Is.EqualTo(5));
    }

    [Test]
    public async Task Should_stand_in_an_unsaved_extractive_summary_when_the_model_fails()
    {
        var services = Services();
        var store = services.GetRequiredService<ITranscriptStore>();
        var run = Guid.NewGuid();
        await RecordStepsAsync(store, run, 1, 6);
        _fake.ReplyWithServerError(500);

        var context = await BuildAsync(services, Agent(1_500), run, 7);

        Assert.That(context.OverBudget, Is.Null);
        Assert.That(context.Messages.Any(m => m.Content.Contains(TranscriptSummarizer.ExtractiveLabel, StringComparison.Ordinal)));
        Assert.That(await services.GetRequiredService<ISummaryStore>().GetSummaryAsync(Tenant, run, 6, None), Is.Null, "a passing outage leaves no lasting summary");
        Assert.That(context.Tokens, Is.EqualTo(Recount(services, "gpt-4o-mini", context)).And.LessThanOrEqualTo(1_500));
    }

    [Test]
    public async Task Should_write_a_labelled_extractive_summary_for_the_offline_model_without_asking_it()
    {
        var services = Services(withModel: false);
        var store = services.GetRequiredService<ITranscriptStore>();
        var run = Guid.NewGuid();
        await RecordStepsAsync(store, run, 1, 6);

        var context = await BuildAsync(services, Agent(1_500, model: ""), run, 7);

        Assert.That(context.OverBudget, Is.Null);
        Assert.That(_fake.RequestCount, Is.EqualTo(0));
        var summary = await services.GetRequiredService<ISummaryStore>().GetSummaryAsync(Tenant, run, 6, None);
        Assert.That(summary?.Model, Is.EqualTo(TranscriptSummarizer.ExtractiveWriter));
        Assert.That(summary!.Text, Does.StartWith(TranscriptSummarizer.ExtractiveLabel).And.Contain("Step 1:").And.Contain("s1w0").And.Contain("Step 4:"));
        Assert.That(context.Messages.Single(m => m.Content.Contains(TranscriptSummarizer.ExtractiveLabel, StringComparison.Ordinal)).Content,
            Does.Contain(ToolOutcomeText.Open), "the summary quotes tool outputs, so it is shown as data");
        Assert.That(context.Tokens, Is.EqualTo(Recount(services, OfflineChatModel.ModelName, context)).And.LessThanOrEqualTo(1_500));
    }

    [TestCase(500)]
    [TestCase(700)]
    [TestCase(1_000)]
    [TestCase(2_000)]
    [TestCase(4_000)]
    public async Task Should_never_give_a_context_over_the_budget(int budget)
    {
        var services = Services(withModel: false);
        var store = services.GetRequiredService<ITranscriptStore>();
        var run = Guid.NewGuid();
        var agent = Agent(budget, recent: 2, model: "");
        for (var step = 1; step <= 10; step++)
        {
            var context = await BuildAsync(services, agent, run, step);
            var counted = Recount(services, OfflineChatModel.ModelName, context);
            Assert.That(context.Tokens, Is.EqualTo(counted));
            if (context.OverBudget is null)
            {
                Assert.That(counted, Is.LessThanOrEqualTo(budget), $"step {step}");
            }
            else
            {
                Assert.That(counted, Is.GreaterThan(budget), $"step {step} was refused though it fits: {context.OverBudget}");
            }

            await RecordStepsAsync(store, run, step, step);
        }
    }

    [Test]
    public async Task Should_shorten_older_tool_outputs_before_giving_up_and_never_the_latest()
    {
        var services = Services(withModel: false);
        var run = Guid.NewGuid();
        await RecordStepsAsync(services.GetRequiredService<ITranscriptStore>(), run, 1, 3);

        // Three verbatim steps of about 500 tokens each do not fit 1,200; with the first two cut to 100 tokens, they do.
        var context = await BuildAsync(services, Agent(1_200, recent: 3, model: ""), run, 4);

        Assert.That(context.OverBudget, Is.Null);
        Assert.That(context.ShortenedSteps, Is.GreaterThan(0));
        var outputs = context.Messages.Where(m => m.Role == ContextRole.Tool).Select(m => m.Content).ToList();
        Assert.That(outputs[0], Does.Contain("[shortened to fit the context: the first 100 of"));
        Assert.That(outputs[^1], Is.EqualTo(ToolOutcomeText.Format(OutcomeOf(3))), "the latest step stays whole");
        Assert.That(context.Tokens, Is.LessThanOrEqualTo(1_200));
    }

    [Test]
    public async Task Should_fail_with_a_reason_naming_the_budget_when_even_the_instructions_and_goal_do_not_fit()
    {
        var services = Services(withModel: false);
        var instructions = string.Join(" ", Enumerable.Range(0, 400).Select(i => $"rule{i}"));
        var agent = Agent(500, model: "", instructions: instructions);

        var context = await BuildAsync(services, agent, Guid.NewGuid(), 1);

        Assert.That(context.OverBudget, Does.Contain("budget of 500 tokens (memory.context_tokens)").And.Contain("the instructions and the goal come to").And.Contain("assistant.yaml"));
        Assert.That(context.Tokens, Is.GreaterThan(500));
    }

    [Test]
    public async Task Should_put_memories_and_labelled_passages_between_the_instructions_and_the_goal()
    {
        var services = Services(withModel: false);
        await services.GetRequiredService<IMemoryItemStore>().AddItemAsync(
            new MemoryItem(Guid.NewGuid(), Tenant, "ada", "Ada wants refunds paid to her bank card.", MemoryKind.Preference, null, DateTimeOffset.UtcNow), None);
        await services.GetRequiredService<IKnowledgeStore>().UpsertChunksAsync(
        [
            new KnowledgeChunk("docs/refunds.md#3", Tenant, "handbook", "docs/refunds.md", 3, "Refunds are paid within 14 days of the return."),
            new KnowledgeChunk("docs/shipping.md#1", Tenant, "handbook", "docs/shipping.md", 1, "Parcels leave the warehouse on weekdays."),
        ], None);
        var agent = Agent(8_000, model: "", memory: "  long_term: true\n  knowledge: [handbook]\n  retrieve: 3");

        var context = await BuildAsync(services, agent, Guid.NewGuid(), 1, goal: "When are refunds paid?", user: "ada");

        Assert.That(context.Messages.Select(m => m.Role), Is.EqualTo(new[] { ContextRole.System, ContextRole.System, ContextRole.System, ContextRole.User }));
        Assert.That((context.Memories, context.Passages), Is.EqualTo((1, 1)));
        Assert.That(context.Messages[1].Content, Does.Contain("(preference) Ada wants refunds paid to her bank card.").And.Contain(ToolOutcomeText.Open));
        Assert.That(context.Messages[2].Content, Does.Contain("[docs/refunds.md, passage 4] from handbook\n").And.Contain("Refunds are paid within 14 days").And.Contain(ToolOutcomeText.Open));
        Assert.That(context.Messages[2].Content, Does.Not.Contain("Parcels"), "a passage that shares no word with the goal is not retrieved");
        Assert.That(context.Messages[3].Content, Is.EqualTo("When are refunds paid?"));

        var anonymous = await BuildAsync(services, agent, Guid.NewGuid(), 1, goal: "When are refunds paid?");
        Assert.That(anonymous.Memories, Is.EqualTo(0), "no user, no memories");
    }

    [Test]
    public async Task Should_drop_passages_before_the_transcript_when_the_budget_is_tight()
    {
        var services = Services(withModel: false);
        await services.GetRequiredService<IKnowledgeStore>().UpsertChunksAsync(
            Enumerable.Range(1, 5).Select(i => new KnowledgeChunk($"docs/numbers.md#{i}", Tenant, "handbook", "docs/numbers.md", i,
                $"Numbers are doubled by multiplying them by two. {Output(100 + i)}")).ToList(), None);
        var run = Guid.NewGuid();
        await RecordStepsAsync(services.GetRequiredService<ITranscriptStore>(), run, 1, 1);
        var agent = Agent(1_500, model: "", memory: "  knowledge: [handbook]\n  retrieve: 5");

        var context = await BuildAsync(services, agent, run, 2, goal: "Are numbers doubled?");

        Assert.That(context.OverBudget, Is.Null);
        Assert.That(context.Passages, Is.InRange(1, 4), "some passages were dropped, not all");
        Assert.That(context.Messages.Where(m => m.Role == ContextRole.Tool).Single().Content, Is.EqualTo(ToolOutcomeText.Format(OutcomeOf(1))));
        Assert.That(context.Tokens, Is.LessThanOrEqualTo(1_500));
    }

    /// What the Memory service does at each step: the stored summary, then only the steps after it.
    [Test]
    public async Task Should_read_only_the_steps_after_the_stored_summary_and_build_the_context_a_whole_read_would()
    {
        var services = Services(withModel: false);
        var store = services.GetRequiredService<ITranscriptStore>();
        var builder = services.GetRequiredService<ContextBuilder>();
        var agent = Agent(1_500, recent: 2, model: "");
        var run = Guid.NewGuid();
        await store.StartRunAsync(new RunStart(run, Tenant, agent.Name, "Double every number from 1 to 20.", null, DateTimeOffset.UtcNow), None);
        AssembledContext context = null!;
        var read = new List<int>();
        for (var step = 1; step <= 30; step++)
        {
            var request = new ContextRequested(run, Tenant, agent.Name, step, "Double every number from 1 to 20.");
            var stored = await builder.StoredSummaryAsync(agent, request, None);
            var view = await store.GetRecentAsync(run, stored?.ThroughStep ?? 0, None);
            read.Add(view.Steps.Count);
            context = await builder.BuildAsync(agent, view, request, stored, None);
            Assert.That(context.OverBudget, Is.Null, $"step {step}");
            Assert.That(Recount(services, OfflineChatModel.ModelName, context), Is.EqualTo(context.Tokens).And.LessThanOrEqualTo(1_500), $"step {step}");
            await RecordStepsAsync(store, run, step, step);
        }

        Assert.That(read.Skip(5), Is.All.LessThanOrEqualTo(3), "once summarized, a context reads the latest two steps and the one that has just become old");
        Assert.That(context.SummarizedSteps, Is.EqualTo(27));
        Assert.That(context.Messages.Single(m => m.Content.Contains(TranscriptSummarizer.ExtractiveLabel, StringComparison.Ordinal)).Content,
            Does.Contain("oldest of these steps are left out").And.Contain("Step 27:"));

        // The same 29 steps in another run with no summary stored: built from the whole transcript at once.
        var whole = Guid.NewGuid();
        await RecordStepsAsync(store, whole, 1, 29);
        var rebuilt = await BuildAsync(services, agent, whole, 30);
        Assert.That(rebuilt.Messages.Select(m => (m.Role, m.Content)), Is.EqualTo(context.Messages.Select(m => (m.Role, m.Content))),
            "a summary extended step by step says what one made from every old step says");
    }

    /// A summary stored before step lines were kept to one line (a deploy in the middle of a run): its
    /// lines are read back whole when it is extended, a continuation joined to its step's line.
    [Test]
    public async Task Should_extend_an_extractive_summary_whose_step_lines_go_on_over_several_lines()
    {
        var services = Services(withModel: false);
        var store = services.GetRequiredService<ITranscriptStore>();
        var summaries = services.GetRequiredService<ISummaryStore>();
        var builder = services.GetRequiredService<ContextBuilder>();
        var agent = Agent(1_500, recent: 2, model: "");
        var run = Guid.NewGuid();
        await store.StartRunAsync(new RunStart(run, Tenant, agent.Name, "Double every number from 1 to 20.", null, DateTimeOffset.UtcNow), None);
        await RecordStepsAsync(store, run, 1, 6);
        await summaries.SaveSummaryAsync(new TranscriptSummary(run, Tenant, 3,
            $"{TranscriptSummarizer.ExtractiveLabel}\n- Step 1: the first line\nand the rest of step one\n- Step 2: two\n- Step 3: three", TranscriptSummarizer.ExtractiveWriter, DateTimeOffset.UtcNow), None);

        var request = new ContextRequested(run, Tenant, agent.Name, 7, "Double every number from 1 to 20.");
        var stored = await builder.StoredSummaryAsync(agent, request, None);
        var context = await builder.BuildAsync(agent, await store.GetRecentAsync(run, stored!.ThroughStep, None), request, stored, None);

        Assert.That(context.OverBudget, Is.Null);
        var extended = await summaries.GetSummaryAsync(Tenant, run, 4, None);
        Assert.That(extended?.ThroughStep, Is.EqualTo(4));
        var lines = extended!.Text.Split('\n');
        Assert.That(lines[0], Is.EqualTo(TranscriptSummarizer.ExtractiveLabel));
        Assert.That(lines.Skip(1).Take(3), Is.EqualTo(new[] { "- Step 1: the first line and the rest of step one", "- Step 2: two", "- Step 3: three" }));
        Assert.That(lines[4], Does.StartWith("- Step 4:"));
        Assert.That(lines, Has.Length.EqualTo(5));
    }
}
