using System.Globalization;
using System.Text.Json;
using Agentry.Agents;
using Agentry.Evaluation.Datasets;
using Agentry.Evaluation.Grading;
using Agentry.Evaluation.Running;
using Agentry.Llm;
using Agentry.Tests.Llm;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Agentry.Tests.Evaluation;

/// The rubric judge through the real Semantic Kernel connector, against the scripted OpenAI-compatible fake.
public sealed class When_a_rubric_is_judged_for_an_eval
{
    private static readonly ModelChoice Judge = new("judge-model", "judges");

    private OpenAiFake _fake = null!;
    private LlmStack _llm = null!;

    [SetUp]
    public void StartFake()
    {
        _fake = OpenAiFake.Start();
        // No response cache: every grade below must be a call the fake sees.
        _llm = LlmStack.Create([.. LlmStack.Provider("judges", _fake), ("Llm:DefaultProvider", "judges"), ("Llm:Cache:Enabled", "false")]);
    }

    [TearDown]
    public async Task StopFake()
    {
        await _llm.DisposeAsync();
        _fake.Dispose();
    }

    private RubricGrader Grader() => new(_llm.Gateway, _llm.Services.GetRequiredService<ModelPrices>(), Judge, NullLogger<RubricGrader>.Instance);

    private static EvalCase Case(string id, string goal, string criteria, double minScore = 0.7) =>
        DatasetLoader.Parse("d.yaml", $"cases:\n  - id: {id}\n    goal: \"{goal}\"\n    expect:\n      rubric: {{ criteria: \"{criteria}\", min_score: {minScore.ToString(CultureInfo.InvariantCulture)} }}\n").Cases[0];

    [Test]
    public async Task Should_pass_an_answer_the_judge_scores_above_the_minimum()
    {
        _fake.ReplyWithAnswer("""{"score": 0.9, "reason": "States 395 plainly."}""", promptTokens: 120, completionTokens: 12);
        var grade = await Grader().GradeAsync(Case("a", "What is 17 * 23 + 4?", "States 395."), EvalRuns.Completed("395"), CancellationToken.None);
        Assert.Multiple(() =>
        {
            Assert.That((grade.Passed, grade.Score), Is.EqualTo((true, 0.9)));
            Assert.That(grade.Reason, Does.Contain("States 395 plainly."));
            Assert.That(grade.Metadata![Grade.JudgeModelKey], Is.EqualTo("judge-model"));
            Assert.That(grade.Metadata[Grade.JudgePromptKey], Is.EqualTo(RubricPrompt.Version));
            Assert.That(grade.JudgeTokens, Is.EqualTo(132));
        });
        var request = _fake.Requests.Single();
        Assert.That(request.Model, Is.EqualTo("judge-model"));
        Assert.That(request.Messages[0].GetProperty("content").GetString(), Is.EqualTo(RubricPrompt.Instructions));
        Assert.That(request.Messages[1].GetProperty("content").GetString(), Does.Contain("Rubric: States 395.").And.Contain("Answer: 395"));
    }

    [Test]
    public async Task Should_fail_an_answer_the_judge_scores_below_the_minimum()
    {
        _fake.ReplyWithAnswer("""{"score": 0.4, "reason": "Gives 391."}""");
        var grade = await Grader().GradeAsync(Case("a", "What is 17 * 23 + 4?", "States 395."), EvalRuns.Completed("391"), CancellationToken.None);
        Assert.That((grade.Passed, grade.Score), Is.EqualTo((false, 0.4)));
        Assert.That(grade.Reason, Does.Contain("below the minimum of 0.7"));
    }

    [Test]
    public async Task Should_reask_a_malformed_grade_once_then_count_it_as_zero()
    {
        _fake.ReplyWithAnswer("I think it is fine.").ReplyWithAnswer("""{"score": 2}""");
        var grade = await Grader().GradeAsync(Case("a", "What is 17 * 23 + 4?", "States 395."), EvalRuns.Completed("395"), CancellationToken.None);
        Assert.That((grade.Passed, grade.Score), Is.EqualTo((false, 0.0)));
        Assert.That(grade.Reason, Does.Contain("could not be read after 2 attempts"));
        Assert.That(_fake.Requests, Has.Count.EqualTo(2));
    }

    [Test]
    public async Task Should_fail_the_grade_when_the_judge_cannot_be_asked()
    {
        _fake.ReplyWithServerError(400).ReplyWithServerError(400);
        var grade = await Grader().GradeAsync(Case("a", "What is 17 * 23 + 4?", "States 395."), EvalRuns.Completed("395"), CancellationToken.None);
        Assert.That(grade.Passed, Is.False);
        Assert.That(grade.Reason, Does.StartWith("The rubric judge could not be asked"));
    }

    /// Each case is judged alone: the same dataset in another order, and with several runs at once,
    /// gets the same score for every case, and no judge request ever holds a second case.
    [Test]
    public async Task Should_score_each_case_the_same_whatever_the_order_of_the_dataset()
    {
        var cases = Enumerable.Range(1, 6).Select(i => Case($"case-{i}", $"Question number {i}?", $"Answers question {i}.")).ToList();
        var answers = cases.ToDictionary(c => c.Id, c => $"Answer to {c.Goal} {(c.Id.EndsWith('2') || c.Id.EndsWith('5') ? "wrong" : "right")}");
        // The fake judges like a model that sees only its context: the score follows from the request alone.
        _fake.WhenEmpty = request =>
        {
            var text = request.Messages[1].GetProperty("content").GetString()!;
            var score = text.Contains("right", StringComparison.Ordinal) ? 0.9 : 0.3;
            return FakeReply.Answer(JsonSerializer.Serialize(new { score, reason = "Judged from this case alone." }));
        };

        async Task<Dictionary<string, double>> ScoresAsync(IReadOnlyList<EvalCase> order, int concurrency)
        {
            var dataset = new EvalDataset("d", "d.yaml", "v", "assistant", 0.5, Judge, new Dictionary<string, IReadOnlyList<string>>(), order);
            var record = await new EvalRunner([new OutcomeGrader(), Grader()], TimeProvider.System)
                .RunAsync(dataset, new EvalSettings(Concurrency: concurrency), new EvalSubject(_ => "hash", null), new CannedRuns(answers), null, CancellationToken.None);
            Assert.That(record.Cases.Select(c => c.CaseId), Is.EqualTo(order.Select(c => c.Id)), "results keep the dataset's order");
            return record.Cases.ToDictionary(c => c.CaseId, c => c.Trials.Single().Grades.Single(g => g.Grader == "rubric").Score);
        }

        var inOrder = await ScoresAsync(cases, 1);
        var reversed = await ScoresAsync(cases.AsEnumerable().Reverse().ToList(), 1);
        var shuffled = await ScoresAsync([cases[3], cases[0], cases[5], cases[2], cases[4], cases[1]], 3);
        Assert.Multiple(() =>
        {
            Assert.That(reversed, Is.EquivalentTo(inOrder));
            Assert.That(shuffled, Is.EquivalentTo(inOrder));
            Assert.That(inOrder["case-2"], Is.EqualTo(0.3));
            Assert.That(inOrder["case-1"], Is.EqualTo(0.9));
        });
        foreach (var request in _fake.Requests)
        {
            var context = string.Join("\n", request.Messages.EnumerateArray().Select(m => m.GetProperty("content").GetString()));
            Assert.That(cases.Count(c => context.Contains(c.Goal, StringComparison.Ordinal)), Is.EqualTo(1), context);
        }
    }

    /// Stands in for the runtime in the order test only: the runs' answers are fixed, so that the
    /// judge is the only thing that could make a score depend on the order.
    private sealed class CannedRuns(IReadOnlyDictionary<string, string> answers) : ICaseRunner
    {
        public Task<RunEvidence> RunAsync(EvalCase @case, string agent, CancellationToken cancellationToken) =>
            Task.FromResult(EvalRuns.Completed(answers[@case.Id]));
    }
}
