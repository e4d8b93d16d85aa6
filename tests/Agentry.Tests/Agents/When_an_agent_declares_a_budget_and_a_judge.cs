using Agentry.Agents;
using Agentry.Agents.Tools;

namespace Agentry.Tests.Agents;

/// limits.max_cost and evaluation (judge, min_confidence, model) in agents/NAME.yaml.
public sealed class When_an_agent_declares_a_budget_and_a_judge
{
    private static AgentDefinition Parse(string yaml) =>
        AgentDefinitionLoader.Parse("budget.yaml", yaml, ShippedTools.Catalog.Names.ToHashSet());

    [Test]
    public void Should_read_the_cost_limit_exactly_and_the_judge()
    {
        var agent = Parse("""
            instructions: Work.
            limits:
              max_cost: 0.125
            evaluation:
              judge: true
              min_confidence: 0.85
              model:
                name: judge-model
            """);

        Assert.That(agent.Limits.MaxCost, Is.EqualTo(0.125m));
        Assert.That(agent.Evaluation, Is.EqualTo(new AgentEvaluation(true, 0.85, new ModelChoice("judge-model"))));
    }

    [Test]
    public void Should_have_no_cost_limit_and_no_judge_by_default()
    {
        var agent = Parse("instructions: Work.");

        Assert.That(agent.Limits.MaxCost, Is.Null);
        Assert.That(agent.Evaluation, Is.EqualTo(AgentEvaluation.RulesOnly));
        Assert.That(agent.Evaluation.MinConfidence, Is.EqualTo(0.7));
    }

    [TestCase("max_cost: 0", "limits.max_cost must be an amount in US dollars, more than 0 and at most 1,000,000, written like 0.50 (no currency sign), not '0'.")]
    [TestCase("max_cost: $0.50", "limits.max_cost must be an amount in US dollars, more than 0 and at most 1,000,000, written like 0.50 (no currency sign), not '$0.50'.")]
    [TestCase("max_cost: -1", "limits.max_cost must be an amount in US dollars, more than 0 and at most 1,000,000, written like 0.50 (no currency sign), not '-1'.")]
    public void Should_name_the_line_of_a_bad_cost_limit(string limit, string problem)
    {
        var error = Assert.Throws<AgentDefinitionException>(() => Parse($"""
            instructions: Work.
            limits:
              {limit}
            """))!;

        Assert.That((error.Line, error.Column), Is.EqualTo((3L, 13L)));
        Assert.That(error.Problem, Is.EqualTo(problem));
    }

    [TestCase("judge: yes", 4, 10, "evaluation.judge must be true or false, not 'yes'.")]
    [TestCase("min_confidence: 1.5", 4, 19, "evaluation.min_confidence must be a number from 0 to 1, such as 0.7, not '1.5'.")]
    [TestCase("judges: true", 4, 3, "unknown key 'judges' in 'evaluation'. Allowed keys: judge, min_confidence, model, online.")]
    public void Should_name_the_line_of_a_bad_evaluation(string setting, long line, long column, string problem)
    {
        var error = Assert.Throws<AgentDefinitionException>(() => Parse($"""
            instructions: Work.
            evaluation:
              model: judge-model
              {setting}
            """))!;

        Assert.That((error.Line, error.Column, error.Problem), Is.EqualTo((line, column, problem)));
    }
}
