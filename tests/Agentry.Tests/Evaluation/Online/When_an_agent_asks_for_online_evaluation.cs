using Agentry.Agents;

namespace Agentry.Tests.Evaluation.Online;

/// `evaluation.online` in an agent definition, read by the real loader: what it grades, and every
/// mistake named with its file and line.
public sealed class When_an_agent_asks_for_online_evaluation
{
    private const string Head = """
        instructions: Answer.
        tools: [calculator, http_get]
        evaluation:
          online:

        """;

    private static AgentDefinition Parse(string online) => TestAgents.Parse("graded", Head.TrimEnd() + "\n" + online);

    private static AgentDefinitionException ErrorFor(string online) =>
        Assert.Throws<AgentDefinitionException>(() => Parse(online)) ?? throw new AssertionException("no error");

    [Test]
    public void Should_read_the_sample_rubric_checks_and_alert()
    {
        var agent = Parse("""
                sample: 0.25
                rubric: The answer gives the number and says how it was found.
                min_score: 0.6
                checks:
                  matches: ['\d+']
                  not_contains: [I cannot]
                  called: [calculator]
                  not_called: [http_get]
                  max_steps: 4
                  max_cost: 0.05
                  max_latency: 30s
                alert:
                  window: 20
                  drop: 0.15
            """);

        var online = agent.Evaluation.Online!;
        Assert.Multiple(() =>
        {
            Assert.That(online.Sample, Is.EqualTo(0.25));
            Assert.That(online.Checks.Rubric, Is.EqualTo("The answer gives the number and says how it was found."));
            Assert.That(online.Checks.MinScore, Is.EqualTo(0.6));
            Assert.That(online.Checks.Matches.Single().IsMatch("it is 42"), Is.True);
            Assert.That(online.Checks.NotContains, Is.EqualTo(new[] { "I cannot" }));
            Assert.That(online.Checks.Called, Is.EqualTo(new[] { "calculator" }));
            Assert.That(online.Checks.NotCalled, Is.EqualTo(new[] { "http_get" }));
            Assert.That((online.Checks.MaxSteps, online.Checks.MaxCost, online.Checks.MaxLatency), Is.EqualTo(((int?)4, (decimal?)0.05m, (TimeSpan?)TimeSpan.FromSeconds(30))));
            Assert.That(online.Alert, Is.EqualTo(new Agentry.Agents.Evaluation.OnlineAlert(20, 0.15)));
            Assert.That(agent.Evaluation.Judge, Is.False, "online grading does not turn the per-run judge on");
        });
    }

    [Test]
    public void Should_have_no_online_evaluation_and_no_alert_unless_asked()
    {
        Assert.That(TestAgents.Parse("plain", "instructions: Answer.").Evaluation.Online, Is.Null);
        Assert.That(Parse("    sample: 0.1\n    rubric: Helpful.").Evaluation.Online!.Alert, Is.Null);
    }

    [TestCase("    rubric: Helpful.", 5, "needs 'sample'")]
    [TestCase("    sample: 1.5\n    rubric: Helpful.", 5, "evaluation.online.sample must be a number from 0 to 1")]
    [TestCase("    sample: 0.1", 5, "grades nothing")]
    [TestCase("    sample: 0.1\n    min_score: 0.5\n    checks: { max_steps: 3 }", 6, "needs a 'rubric'")]
    [TestCase("    sample: 0.1\n    checks:\n      max_step: 3", 7, "unknown key 'max_step' in 'evaluation.online.checks'")]
    [TestCase("    sample: 0.1\n    checks:\n      matches: ['(unclosed']", 7, "is not a regular expression")]
    [TestCase("    sample: 0.1\n    checks:\n      not_called: [run_shell]", 7, "'run_shell' in evaluation.online.checks.not_called is not one of the agent's tools")]
    [TestCase("    sample: 0.1\n    rubric: Helpful.\n    alert: { window: 0 }", 7, "evaluation.online.alert.window must be a whole number from 1")]
    [TestCase("    sample: 0.1\n    rubric: Helpful.\n    alert:\n      drop: 0", 8, "would alert on any change")]
    [TestCase("    sample: 0.1\n    rubric: Helpful.\n    alert:\n      notify: me", 8, "unknown key 'notify' in 'evaluation.online.alert'")]
    public void Should_name_the_file_and_line_of_a_mistake(string online, int line, string problem)
    {
        var error = ErrorFor(online);

        Assert.That(error.File, Is.EqualTo("graded.yaml"));
        Assert.That(error.Line, Is.EqualTo(line), error.Message);
        Assert.That(error.Problem, Does.Contain(problem));
    }
}
