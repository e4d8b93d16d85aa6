using Agentry.Contracts;
using Agentry.Evaluator;
using Agentry.Agents;
using Agentry.Tests.Llm;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Evaluator;

/// The Evaluator's optional model judge, through the real OpenAI connector against the scripted
/// fake: its JSON verdict and confidence decide between Complete and Escalate.
public sealed class When_a_model_judges_the_final_answer : HarnessFixture
{
    private OpenAiFake _fake = null!;

    protected override TimeSpan InactivityTimeout => TimeSpan.FromSeconds(2);

    protected override AgentCatalog Agents => TestAgents.Catalog(
        TestAgents.Parse("judged", """
            instructions: Answer.
            evaluation:
              judge: true
              min_confidence: 0.7
            """),
        TestAgents.Parse("unjudged", """
            instructions: Answer.
            """));

    protected override void ConfigureServices(IServiceCollection services)
    {
        _fake = OpenAiFake.Start();
        var settings = LlmStack.Provider("fake", _fake, more: [("Model", "judge-fake"), ("MaxRetries", "0")])
            .Append((Key: "Llm:Prices:judge-fake:InputPerMillion", Value: (string?)"1"))
            .Append((Key: "Llm:Prices:judge-fake:OutputPerMillion", Value: (string?)"4"));
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddEvaluator(configuration);
    }

    protected override void ConfigureBus(IBusRegistrationConfigurator bus) => bus.AddConsumer<FinalAnswerConsumer>();

    [TearDown]
    public void StopFake() => _fake.Dispose();

    private async Task<GoalEvaluated> Judge(string agent = "judged", string answer = "Paris")
    {
        var runId = NewId.NextGuid();
        await Harness.Bus.Publish(new StepPlanned(runId, "t", agent, 2, 8, null, [], answer, new TokenUsage(10, 5), "gpt-fake", Goal: "What is the capital of France?"));
        return await PublishedOne<GoalEvaluated>(m => m.RunId == runId);
    }

    [Test]
    public async Task Should_complete_when_the_judge_is_confident()
    {
        _fake.ReplyWithAnswer("""{"verdict": "complete", "confidence": 0.9, "reason": "Paris is the capital of France."}""", promptTokens: 100, completionTokens: 20);

        var verdict = await Judge();

        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Complete));
        Assert.That(verdict.FinalAnswer, Is.EqualTo("Paris"));
        Assert.That(verdict.Confidence, Is.EqualTo(0.9));
        Assert.That(verdict.Reason, Is.EqualTo("The model judge accepted the answer (confidence 0.9, minimum 0.7): Paris is the capital of France."));
        Assert.That(verdict.Usage, Is.EqualTo(new TokenUsage(100, 20)));
        Assert.That(verdict.Cost, Is.EqualTo(0.00018m));
        var request = _fake.Requests.Single().Messages.EnumerateArray().Last().GetProperty("content").GetString();
        Assert.That(request, Does.Contain("Goal: What is the capital of France?").And.Contain("Answer: Paris"));
    }

    [Test]
    public async Task Should_escalate_with_the_judges_reason_when_its_confidence_is_below_the_minimum()
    {
        _fake.ReplyWithAnswer("""{"verdict": "complete", "confidence": 0.4, "reason": "The answer may be right but gives no source."}""");

        var verdict = await Judge();

        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Escalate));
        Assert.That(verdict.Confidence, Is.EqualTo(0.4));
        Assert.That(verdict.Reason, Is.EqualTo("The model judge's confidence in the answer, 0.4, is below the minimum of 0.7: The answer may be right but gives no source."));
        Assert.That(verdict.FinalAnswer, Is.Null);
    }

    [Test]
    public async Task Should_escalate_when_the_judge_finds_the_answer_does_not_achieve_the_goal()
    {
        _fake.ReplyWithAnswer("""{"verdict": "incomplete", "confidence": 0.95, "reason": "Lyon is not the capital."}""");

        var verdict = await Judge(answer: "Lyon");

        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Escalate));
        Assert.That(verdict.Reason, Is.EqualTo("The model judge found that the answer does not achieve the goal (confidence 0.95): Lyon is not the capital."));
    }

    [Test]
    public async Task Should_ask_once_more_after_a_malformed_verdict_and_use_the_second()
    {
        _fake.ReplyWithAnswer("Yes, that looks right to me.")
            .ReplyWithAnswer("```json\n{\"verdict\": \"complete\", \"confidence\": 0.8, \"reason\": \"Correct.\"}\n```");

        var verdict = await Judge();

        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Complete));
        Assert.That(_fake.RequestCount, Is.EqualTo(2));
        var reAsk = _fake.Requests[1].Messages.EnumerateArray().Last();
        Assert.That(reAsk.GetProperty("role").GetString(), Is.EqualTo("user"));
        Assert.That(reAsk.GetProperty("content").GetString(), Does.StartWith("Your reply could not be used: the reply is not valid JSON"));
        Assert.That(verdict.Usage, Is.EqualTo(new TokenUsage(20, 10)), "both judge calls are counted");
    }

    [Test]
    public async Task Should_treat_a_verdict_malformed_twice_as_low_confidence_and_escalate()
    {
        _fake.ReplyWithAnswer("""{"verdict": "complete"}""")
            .ReplyWithAnswer("""{"verdict": "probably", "confidence": 2, "reason": "x"}""");

        var verdict = await Judge();

        Assert.That(_fake.RequestCount, Is.EqualTo(2), "re-asked once only");
        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Escalate));
        Assert.That(verdict.Confidence, Is.Zero);
        Assert.That(verdict.Reason, Does.StartWith("The model judge's reply could not be read after 2 attempts (")
            .And.Contain("/verdict: ")
            .And.Contain("/confidence: ")
            .And.EndWith("); treated as no confidence, below the minimum of 0.7."));
    }

    [Test]
    public async Task Should_escalate_when_the_judge_cannot_be_asked()
    {
        _fake.ReplyWithServerError(503);

        var verdict = await Judge();

        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Escalate));
        Assert.That(verdict.Reason, Does.StartWith("The model judge could not be asked (").And.EndWith("); a person should check the answer."));
    }

    [Test]
    public async Task Should_not_ask_a_model_for_an_agent_without_the_judge()
    {
        var verdict = await Judge(agent: "unjudged");

        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Complete));
        Assert.That(verdict.Reason, Is.EqualTo("The model gave a final answer."));
        Assert.That(_fake.RequestCount, Is.Zero);
    }
}

/// With no model configured, the offline model stands in as the judge: deterministic, and honest
/// that it does not judge (it accepts any non-empty answer).
public sealed class When_the_offline_model_is_the_judge : HarnessFixture
{
    protected override AgentCatalog Agents => TestAgents.Catalog(TestAgents.Parse("judged", """
        instructions: Answer.
        evaluation:
          judge: true
        """));

    protected override void ConfigureServices(IServiceCollection services) => services.AddEvaluator(new ConfigurationBuilder().Build());

    protected override void ConfigureBus(IBusRegistrationConfigurator bus) => bus.AddConsumer<FinalAnswerConsumer>();

    [Test]
    public async Task Should_accept_a_non_empty_answer_and_say_it_did_not_judge_it()
    {
        var runId = NewId.NextGuid();

        await Harness.Bus.Publish(new StepPlanned(runId, "t", "judged", 1, 8, null, [], "42", TokenUsage.None, "agentry-offline", Goal: "What is 6 * 7?"));

        var verdict = await PublishedOne<GoalEvaluated>(m => m.RunId == runId);
        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Complete));
        Assert.That(verdict.Confidence, Is.EqualTo(1.0));
        Assert.That(verdict.Reason, Is.EqualTo("The model judge accepted the answer (confidence 1, minimum 0.7): The offline model does not judge answers: it accepts any non-empty answer. Configure a real model for a real judgement."));
        Assert.That(verdict.Usage!.InputTokens, Is.GreaterThan(0));
        Assert.That(verdict.Cost, Is.Zero);
    }
}
