using System.Text.Json;
using Agentry.Contracts;
using Agentry.Evaluator;

namespace Agentry.Tests.Evaluator;

[TestFixture]
public sealed class When_the_rules_judge_a_final_answer
{
    private static StepPlanned Answer(string? answer, int step = 2, int maxSteps = 5) =>
        new(Guid.NewGuid(), "tenant-1", "assistant", step, maxSteps, null, [], answer, new TokenUsage(100, 20), "test-model");

    [Test]
    public void Should_complete_the_run_with_the_answer()
    {
        var step = Answer("395");

        var verdict = Rules.JudgeAnswer(step);

        Assert.Multiple(() =>
        {
            Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Complete));
            Assert.That(verdict.FinalAnswer, Is.EqualTo("395"));
            Assert.That(verdict.RunId, Is.EqualTo(step.RunId));
            Assert.That(verdict.TenantId, Is.EqualTo("tenant-1"));
            Assert.That(verdict.Step, Is.EqualTo(2));
            Assert.That(verdict.Confidence, Is.EqualTo(1.0));
            Assert.That(verdict.Reason, Is.EqualTo("The model gave a final answer."));
        });
    }

    [Test]
    public void Should_complete_with_an_answer_even_at_the_last_step()
    {
        var verdict = Rules.JudgeAnswer(Answer("done", step: 5, maxSteps: 5));

        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Complete));
        Assert.That(verdict.FinalAnswer, Is.EqualTo("done"));
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("  \n ")]
    public void Should_ask_again_after_an_empty_answer(string? answer)
    {
        var verdict = Rules.JudgeAnswer(Answer(answer, step: 2, maxSteps: 5));

        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Continue));
        Assert.That(verdict.FinalAnswer, Is.Null);
        Assert.That(verdict.Reason, Is.EqualTo("The model's answer was empty; asking again."));
    }

    [Test]
    public void Should_fail_after_an_empty_answer_at_the_last_step()
    {
        var verdict = Rules.JudgeAnswer(Answer("", step: 5, maxSteps: 5));

        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Fail));
        Assert.That(verdict.FinalAnswer, Is.Null);
        Assert.That(verdict.Reason, Does.StartWith("Step limit reached").And.Contain("(5)"));
    }
}

[TestFixture]
public sealed class When_the_rules_judge_tool_results
{
    private static readonly Guid RunId = Guid.NewGuid();

    private static JsonElement Json(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private static ToolOutcome Success(string tool, string arguments, string output, string callId = "c1") =>
        new(callId, tool, Json(arguments), output, ToolErrorKind.None, null, TimeSpan.FromMilliseconds(5));

    private static ToolOutcome Failure(string tool, string arguments, ToolErrorKind kind, string error, string callId = "c1") =>
        new(callId, tool, Json(arguments), "", kind, error, TimeSpan.FromMilliseconds(5));

    private static ToolResult Result(int step, params ToolOutcome[] outcomes) => Result(step, 8, outcomes);

    private static ToolResult Result(int step, int maxSteps, params ToolOutcome[] outcomes) =>
        new(RunId, "tenant-1", "assistant", step, maxSteps, outcomes);

    [Test]
    public void Should_continue_after_tool_results()
    {
        var verdict = Rules.JudgeResults(Result(1, Success("calculator", """{"expression":"2+3"}""", "5")), []);

        Assert.Multiple(() =>
        {
            Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Continue));
            Assert.That(verdict.Reason, Is.EqualTo("1 tool result observed; planning the next step."));
            Assert.That(verdict.RunId, Is.EqualTo(RunId));
            Assert.That(verdict.Step, Is.EqualTo(1));
            Assert.That(verdict.Confidence, Is.EqualTo(1.0));
            Assert.That(verdict.FinalAnswer, Is.Null);
        });
    }

    [Test]
    public void Should_count_the_results_in_the_reason()
    {
        var verdict = Rules.JudgeResults(Result(1,
            Success("calculator", """{"expression":"2+3"}""", "5", "c1"),
            Success("current_time", "{}", "2025-01-15T12:00:00Z (UTC, Wednesday)", "c2")), []);

        Assert.That(verdict.Reason, Is.EqualTo("2 tool results observed; planning the next step."));
    }

    [Test]
    public void Should_continue_and_say_how_many_calls_failed()
    {
        var verdict = Rules.JudgeResults(Result(1,
            Success("calculator", """{"expression":"2+3"}""", "5", "c1"),
            Failure("calculator", """{"expression":"1/0"}""", ToolErrorKind.Failed, "Division by zero", "c2")), []);

        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Continue));
        Assert.That(verdict.Reason, Is.EqualTo("1 of 2 tool calls failed; the model will see the errors at the next step."));
    }

    [Test]
    public void Should_escalate_when_a_tool_will_not_act_without_a_person_even_at_the_last_step()
    {
        var verdict = Rules.JudgeResults(Result(8, 8,
            Success("lookup_order", """{"order_id":"1050"}""", "{}", "c1"),
            Failure("refund_order", """{"order_id":"1050"}""", ToolErrorKind.NeedsPerson, "Order 1050 is worth 1899.00 EUR, over the limit.", "c2")), []);

        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Escalate));
        Assert.That(verdict.Reason, Is.EqualTo("refund_order needs a person: Order 1050 is worth 1899.00 EUR, over the limit."));
    }

    [Test]
    public void Should_escalate_the_same_call_with_the_same_result_as_an_earlier_step()
    {
        var earlier = Rules.Fingerprints(Result(1, Success("http_get", """{"url":"https://example.com/","headers":{"a":1,"b":[1,2]}}""", "HTTP 200 OK")));
        var again = Result(3, Success("http_get", """
            {
              "headers": { "b": [1, 2], "a": 1 },
              "url": "https://example.com/"
            }
            """, "HTTP 200 OK"));

        var verdict = Rules.JudgeResults(again, earlier);

        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Escalate));
        Assert.That(verdict.Reason, Does.StartWith("Loop detected: http_get was called with the same arguments"));
        Assert.That(verdict.Reason, Does.Contain("at step 1 and again at step 3"));
        Assert.That(verdict.Confidence, Is.EqualTo(1.0));
    }

    [Test]
    public void Should_escalate_a_failure_that_repeats()
    {
        var earlier = Rules.Fingerprints(Result(1, Failure("calculator", """{"expression":"1/0"}""", ToolErrorKind.Failed, "Division by zero")));

        var verdict = Rules.JudgeResults(Result(2, Failure("calculator", """{ "expression" : "1/0" }""", ToolErrorKind.Failed, "Division by zero")), earlier);

        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Escalate));
        Assert.That(verdict.Reason, Does.Contain("calculator").And.Contain("at step 1 and again at step 2"));
    }

    [TestCase("""{"expression":"2+3"}""", """{"expression":"2\u002B3"}""")]
    [TestCase("""{"precision":1}""", """{"precision":1.0}""")]
    public void Should_escalate_the_same_call_written_with_other_escapes_or_number_notation(string first, string second)
    {
        var earlier = Rules.Fingerprints(Result(1, Success("calculator", first, "5")));

        var verdict = Rules.JudgeResults(Result(2, Success("calculator", second, "5")), earlier);

        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Escalate));
    }

    [Test]
    public void Should_continue_when_the_same_call_gives_a_different_result()
    {
        var earlier = Rules.Fingerprints(Result(1, Success("current_time", """{"timezone":"Asia/Tokyo"}""", "2025-01-16T07:30:05+09:00 (Asia/Tokyo, Thursday)")));

        var verdict = Rules.JudgeResults(Result(2, Success("current_time", """{"timezone":"Asia/Tokyo"}""", "2025-01-16T07:31:05+09:00 (Asia/Tokyo, Thursday)")), earlier);

        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Continue));
    }

    [Test]
    public void Should_continue_when_the_arguments_differ()
    {
        var earlier = Rules.Fingerprints(Result(1, Success("calculator", """{"expression":"2+3"}""", "5")));

        var verdict = Rules.JudgeResults(Result(2, Success("calculator", """{"expression":"3+2"}""", "5")), earlier);

        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Continue));
    }

    [Test]
    public void Should_fail_at_the_step_limit_without_a_final_answer()
    {
        var verdict = Rules.JudgeResults(Result(4, 4, Success("calculator", """{"expression":"2+3"}""", "5")), []);

        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Fail));
        Assert.That(verdict.Reason, Is.EqualTo("Step limit reached: 4 steps taken without a final answer."));
    }

    [Test]
    public void Should_continue_before_the_step_limit()
    {
        var verdict = Rules.JudgeResults(Result(3, 4, Success("calculator", """{"expression":"2+3"}""", "5")), []);

        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Continue));
    }

    [Test]
    public void Should_fingerprint_each_outcome_with_canonical_arguments_and_its_result()
    {
        var fingerprints = Rules.Fingerprints(Result(2,
            Success("http_get", """{ "url" : "https://example.com/", "b": [ 1, {"z":1, "y":2} ] }""", "HTTP 200 OK", "c1"),
            Failure("calculator", """{"expression":"1/0"}""", ToolErrorKind.Failed, "Division by zero", "c2")));

        Assert.That(fingerprints, Is.EqualTo(new[]
        {
            new CallFingerprint(2, "http_get", """{"b":[1,{"y":2,"z":1}],"url":"https://example.com/"}""", Agentry.ServiceDefaults.Payloads.PayloadIds.Of("HTTP 200 OK"u8)),
            new CallFingerprint(2, "calculator", """{"expression":"1/0"}""", "Failed: Division by zero"),
        }));
    }
}
