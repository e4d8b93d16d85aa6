using System.Text.Json;
using Agentry.Contracts;
using Agentry.Notifier;

namespace Agentry.Tests.Notifier;

/// The summary a person reads when a run is handed over, from Memory's transcript.
public sealed class When_an_escalation_is_summarized
{
    private static readonly Guid RunId = Guid.Parse("0b5c7a4e-0000-0000-0000-000000000042");

    private static readonly RunEscalated Escalated = new(RunId, "acme", "support", "The judge is not confident (0.40 < 0.70): the refund amount is not in the order.",
        "Goal: Refund order 42", 2, new TokenUsage(1_200, 80), TimeSpan.FromSeconds(12.5), 0.0125m);

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static RunView Transcript(params StepView[] steps) =>
        new(RunId, true, "acme", "support", "Refund order 42 for the customer", RunStatus.Escalated, null, Escalated.Reason, Escalated.Usage, steps, 0.0125m);

    private static readonly StepView LookUp = new(1, "Look the order up.",
        [new ToolCall("c1", "lookup_order", Json("""{"order": 42}""")), new ToolCall("c2", "refund_order", Json("""{"order": 42}"""))],
        [
            new ToolOutcome("c1", "lookup_order", Json("""{"order": 42}"""), "{\n  \"order\": 42,\n  \"total\": 19.99\n}", ToolErrorKind.None, null, TimeSpan.FromMilliseconds(8)),
            new ToolOutcome("c2", "refund_order", Json("""{"order": 42}"""), "", ToolErrorKind.PermissionDenied, "refund_order needs approval", TimeSpan.Zero),
        ],
        null, Verdict.Continue, "2 tool results observed", new TokenUsage(600, 40), "gpt");

    private static readonly StepView Answer = new(2, null, [], [], "Refunded $25.00 to the customer.", Verdict.Escalate, Escalated.Reason, new TokenUsage(600, 40), "gpt");

    [Test]
    public void Should_say_the_goal_why_it_stopped_each_call_with_its_result_the_last_answer_usage_and_the_link()
    {
        var summary = EscalationSummary.Write(Escalated, Transcript(LookUp, Answer), new Uri($"https://agentry.example.com/runs/{RunId}"));

        Assert.That(summary, Does.Contain($"Run {RunId} of agent 'support' needs a person: it stopped at step 2."));
        Assert.That(summary, Does.Contain("Why it stopped: The judge is not confident (0.40 < 0.70)"));
        Assert.That(summary, Does.Contain("Goal: Refund order 42 for the customer"));
        Assert.That(summary, Does.Contain("""- lookup_order {"order":42} -> returned { "order": 42, "total": 19.99 }"""), "a result on one line");
        Assert.That(summary, Does.Contain("""- refund_order {"order":42} -> PermissionDenied: refund_order needs approval"""));
        Assert.That(summary, Does.Contain("Step 2: answered \"Refunded $25.00 to the customer.\""));
        Assert.That(summary, Does.Contain("Evaluator: Escalate: The judge is not confident"));
        Assert.That(summary, Does.Contain("Last answer (step 2, not accepted): Refunded $25.00 to the customer."));
        Assert.That(summary, Does.Contain("Usage: 1,280 tokens (1,200 in, 80 out), cost $0.0125, 12.5 s."));
        Assert.That(summary, Does.Contain($"agentry resume {RunId} \"your guidance\"").And.Contain($"agentry close {RunId}"));
        Assert.That(summary, Does.Contain($"https://agentry.example.com/runs/{RunId}"));
    }

    [Test]
    public void Should_shorten_a_long_result()
    {
        var longOutput = LookUp with { Outcomes = [LookUp.Outcomes[0] with { Output = new string('x', 5_000) }, LookUp.Outcomes[1]] };

        var summary = EscalationSummary.Write(Escalated, Transcript(longOutput, Answer), null);

        Assert.That(summary, Does.Contain("returned " + new string('x', 199) + "…"));
        Assert.That(summary, Does.Not.Contain(new string('x', 201)));
    }

    [Test]
    public void Should_fall_back_on_what_the_run_recorded_when_memory_cannot_be_read()
    {
        var summary = EscalationSummary.Write(Escalated, null, null);

        Assert.That(summary, Does.Contain("The transcript could not be read from Memory").And.Contain("Goal: Refund order 42"));
        Assert.That(summary, Does.Contain("Why it stopped: The judge is not confident"));
    }

    [Test]
    public void Should_wait_for_the_escalated_step_and_all_its_results()
    {
        var escalatedAtOne = Escalated with { Steps = 1 };
        var withoutResults = LookUp with { Outcomes = [LookUp.Outcomes[0]], Verdict = Verdict.Escalate };

        Assert.That(EscalationSummary.IsComplete(Transcript(withoutResults), escalatedAtOne), Is.False, "one result of two");
        Assert.That(EscalationSummary.IsComplete(Transcript(LookUp with { Verdict = null }), escalatedAtOne), Is.False, "no verdict yet");
        Assert.That(EscalationSummary.IsComplete(Transcript(LookUp), Escalated), Is.False, "step 2 not recorded");
        Assert.That(EscalationSummary.IsComplete(Transcript(LookUp, Answer), Escalated), Is.True);
    }
}
