using Agentry.Contracts;
using Agentry.Evaluation.Datasets;
using Agentry.Evaluation.Grading;
using Microsoft.Extensions.AI.Evaluation;

namespace Agentry.Tests.Evaluation;

/// Each grader with a case it passes and one it fails, graded through M.E.AI's IEvaluator surface.
public sealed class When_a_run_is_graded
{
    private static EvalCase Case(string expect) =>
        DatasetLoader.Parse("d.yaml", $"cases:\n  - id: c\n    goal: What is 17 * 23 + 4?\n    expect:\n{string.Join("\n", expect.Split('\n').Select(l => "      " + l))}\n").Cases[0];

    private static async Task<Grade> GradeAsync(Grader grader, EvalCase @case, RunEvidence run)
    {
        Assert.That(grader.Applies(@case), Is.True);
        var context = new CaseEvidence(@case, run);
        var result = await grader.EvaluateAsync(context.Messages, context.Response, additionalContext: [context]);
        var metric = result.Get<NumericMetric>(grader.Name);
        Assert.That(metric.Interpretation, Is.Not.Null);
        return Grade.FromMetric(metric);
    }

    [Test]
    public async Task Should_pass_an_answer_that_meets_every_text_check()
    {
        var grade = await GradeAsync(new AnswerGrader(), Case("answer: { exact: ' The result is 395. ', contains: [RESULT, '395'], not_contains: error, regex: '\\b395\\b' }"), EvalRuns.Completed("The result is 395."));
        Assert.That((grade.Passed, grade.Score), Is.EqualTo((true, 1.0)));
    }

    [Test]
    public async Task Should_fail_an_answer_that_misses_a_check_and_say_which()
    {
        var grade = await GradeAsync(new AnswerGrader(), Case("answer: { contains: ['395', 'euros'], not_contains: sorry, regex: '^\\d+$' }"), EvalRuns.Completed("Sorry, 395."));
        Assert.Multiple(() =>
        {
            Assert.That(grade.Passed, Is.False);
            Assert.That(grade.Score, Is.EqualTo(0.25));
            Assert.That(grade.Reason, Does.Contain("does not contain \"euros\"").And.Contain("contains \"sorry\"").And.Contain(@"does not match /^\d+$/"));
        });
    }

    [Test]
    public async Task Should_fail_an_answer_that_is_not_exactly_the_expected_one()
    {
        var grade = await GradeAsync(new AnswerGrader(), Case("answer: { exact: '395' }"), EvalRuns.Completed("395!"));
        Assert.That(grade.Passed, Is.False);
    }

    [Test]
    public async Task Should_check_structured_output_against_its_schema()
    {
        var @case = Case("output_schema: { type: object, required: [total], properties: { total: { type: integer } } }");
        var good = await GradeAsync(new SchemaGrader(), @case, EvalRuns.Completed("```json\n{\"total\": 395}\n```"));
        var wrongType = await GradeAsync(new SchemaGrader(), @case, EvalRuns.Completed("{\"total\": \"395\"}"));
        var notJson = await GradeAsync(new SchemaGrader(), @case, EvalRuns.Completed("The total is 395."));
        Assert.Multiple(() =>
        {
            Assert.That(good.Passed, Is.True);
            Assert.That(wrongType.Passed, Is.False);
            Assert.That(wrongType.Reason, Does.Contain("/total"));
            Assert.That(notJson.Passed, Is.False);
        });
    }

    [Test]
    public async Task Should_pass_when_required_tools_were_called_with_their_arguments()
    {
        var @case = Case("tools:\n  called: [current_time, { name: calculator, arguments: { expression: '17 * 23 + 4' } }]\n  not_called: [http_get]");
        var grade = await GradeAsync(new ToolGrader(), @case, EvalRuns.Completed("395",
            ("calculator", """{"expression":"1 + 1"}"""), ("calculator", """{"expression":"17 * 23 + 4","precision":2}"""), ("current_time", "{}")));
        Assert.That((grade.Passed, grade.Score), Is.EqualTo((true, 1.0)));
    }

    [Test]
    public async Task Should_fail_on_wrong_arguments_a_missing_tool_and_a_forbidden_one()
    {
        var @case = Case("tools:\n  called: [current_time, { name: calculator, arguments: { expression: '17 * 23 + 4' } }]\n  not_called: [http_get]");
        var grade = await GradeAsync(new ToolGrader(), @case, EvalRuns.Completed("395",
            ("calculator", """{"expression":"17*23+4"}"""), ("http_get", """{"url":"https://example.com"}""")));
        Assert.Multiple(() =>
        {
            Assert.That(grade.Passed, Is.False);
            Assert.That(grade.Score, Is.Zero);
            Assert.That(grade.Reason, Does.Contain("current_time was not called").And.Contain("calculator was never called with").And.Contain("http_get was called"));
        });
    }

    [Test]
    public async Task Should_hold_the_run_to_its_budget()
    {
        var @case = Case("max_steps: 2\nmax_tokens: 600\nmax_cost: 0.01\nmax_latency: 1s");
        var within = await GradeAsync(new BudgetGrader(), @case, EvalRuns.Completed("395", ("calculator", "{}")));
        var over = await GradeAsync(new BudgetGrader(), @case,
            new RunEvidence(EvalRuns.View(RunStatus.Completed, "395", [("calculator", "{}")], tokens: 900, cost: 0.02m), TimeSpan.FromSeconds(3)));
        Assert.Multiple(() =>
        {
            Assert.That(within.Passed, Is.True);
            Assert.That(over.Passed, Is.False);
            Assert.That(over.Score, Is.EqualTo(0.25));
            Assert.That(over.Reason, Does.Contain("900 tokens").And.Contain("$0.02 spent").And.Contain("3 s, longer than the 1 s"));
        });
    }

    [Test]
    public async Task Should_expect_a_completed_run_unless_the_case_says_otherwise()
    {
        var plain = Case("max_steps: 5");
        var escalation = Case("status: escalated");
        var failed = new RunEvidence(EvalRuns.View(RunStatus.Failed, null, [], reason: "Token limit of 10 reached."), TimeSpan.FromSeconds(1));
        var escalated = new RunEvidence(EvalRuns.View(RunStatus.Escalated, null, []), TimeSpan.FromSeconds(1));
        var completedGrade = await GradeAsync(new OutcomeGrader(), plain, EvalRuns.Completed("ok"));
        var failedGrade = await GradeAsync(new OutcomeGrader(), plain, failed);
        var escalatedGrade = await GradeAsync(new OutcomeGrader(), escalation, escalated);
        Assert.Multiple(() =>
        {
            Assert.That(completedGrade.Passed, Is.True);
            Assert.That(failedGrade.Passed, Is.False);
            Assert.That(failedGrade.Reason, Is.EqualTo("The run ended failed, not completed: Token limit of 10 reached."));
            Assert.That(escalatedGrade.Passed, Is.True);
        });
    }

    [Test]
    public void Should_refuse_to_grade_without_the_run_in_the_context()
    {
        var context = new CaseEvidence(Case("max_steps: 5"), EvalRuns.Completed("ok"));
        Assert.ThrowsAsync<ArgumentException>(async () => await new BudgetGrader().EvaluateAsync(context.Messages, context.Response));
    }

    [Test]
    public void Should_apply_only_the_graders_a_case_asks_for()
    {
        var @case = Case("answer: { contains: x }");
        Assert.Multiple(() =>
        {
            Assert.That(new AnswerGrader().Applies(@case), Is.True);
            Assert.That(new OutcomeGrader().Applies(@case), Is.True);
            Assert.That(new SchemaGrader().Applies(@case), Is.False);
            Assert.That(new ToolGrader().Applies(@case), Is.False);
            Assert.That(new BudgetGrader().Applies(@case), Is.False);
        });
    }
}
