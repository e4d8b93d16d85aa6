using Agentry.Agents;
using Agentry.Agents.Tools;

namespace Agentry.Tests.Agents;

[TestFixture]
public sealed class When_an_agent_definition_is_loaded
{
    private static readonly HashSet<string> KnownTools = ShippedTools.Catalog.Names.ToHashSet();

    private static AgentDefinition Parse(string file, string yaml) => AgentDefinitionLoader.Parse(file, yaml, KnownTools);

    private static AgentDefinitionException ErrorFor(string file, string yaml)
    {
        var error = Assert.Throws<AgentDefinitionException>(() => Parse(file, yaml));
        return error ?? throw new AssertionException($"No AgentDefinitionException for {file}.");
    }

    private static void AssertLocated(AgentDefinitionException error, string file, long line, long column)
    {
        Assert.Multiple(() =>
        {
            Assert.That(error.File, Is.EqualTo(file));
            Assert.That(error.Line, Is.EqualTo(line));
            Assert.That(error.Column, Is.EqualTo(column));
            Assert.That(error.Message, Does.StartWith($"{file}:{line}:{column}: "));
            Assert.That(error.Message, Does.EndWith(error.Problem));
        });
    }

    [Test]
    public void Should_read_every_field_of_a_valid_definition()
    {
        var agent = Parse("agents/researcher.yaml", """
            description: Finds things out.
            instructions: |
              Look it up.
              Answer briefly.
            model:
              name: gpt-4o-mini
            strategy: react
            tools:
              - calculator
              - http_get
            limits:
              max_steps: 4
              max_tokens: 9000
              deadline: 30s
            notify:
              webhook: https://hooks.example.com/agentry
            """);

        Assert.Multiple(() =>
        {
            Assert.That(agent.Name, Is.EqualTo("researcher"));
            Assert.That(agent.Description, Is.EqualTo("Finds things out."));
            Assert.That(agent.Instructions, Is.EqualTo("Look it up.\nAnswer briefly."));
            Assert.That(agent.Model.Name, Is.EqualTo("gpt-4o-mini"));
            Assert.That(agent.Strategy, Is.EqualTo(PlanningStrategy.React));
            Assert.That(agent.Tools.Select(t => t.Name), Is.EqualTo<string[]>(["calculator", "http_get"]));
            Assert.That(agent.Limits, Is.EqualTo(new AgentLimits(4, 9000, TimeSpan.FromSeconds(30))));
            Assert.That(agent.Notify.Webhook, Is.EqualTo(new Uri("https://hooks.example.com/agentry")));
            Assert.That(agent.SourceFile, Is.EqualTo("agents/researcher.yaml"));
            Assert.That(agent.MayUse("http_get"), Is.True);
            Assert.That(agent.MayUse("current_time"), Is.False);
        });
    }

    [Test]
    public void Should_read_the_slack_and_email_channels()
    {
        var agent = Parse("support.yaml", """
            instructions: Help.
            notify:
              slack: https://hooks.slack.com/services/T0/B0/xyz
              email: [oncall@example.com, lead@example.com]
            """);

        Assert.That(agent.Notify.Webhook, Is.Null);
        Assert.That(agent.Notify.Slack, Is.EqualTo(new Uri("https://hooks.slack.com/services/T0/B0/xyz")));
        Assert.That(agent.Notify.EmailRecipients, Is.EqualTo(new[] { "oncall@example.com", "lead@example.com" }));
        Assert.That(Parse("one.yaml", "instructions: Help.\nnotify:\n  email: solo@example.com").Notify.EmailRecipients, Is.EqualTo(new[] { "solo@example.com" }));
    }

    [TestCase("  slack: not a url", 3, 10, "notify.slack is not an absolute http or https URL")]
    [TestCase("  email: [ok@example.com, nobody]", 3, 27, "'nobody' in notify.email is not an email address")]
    [TestCase("  email: [a@example.com, A@example.com]", 3, 26, "'A@example.com' is listed twice in notify.email")]
    [TestCase("  email: []", 3, 10, "notify.email is an empty list")]
    [TestCase("  sms: +4412345", 3, 3, "unknown key 'sms' in 'notify'")]
    public void Should_report_a_bad_channel_with_its_line(string line, long row, long column, string problem)
    {
        var error = ErrorFor("support.yaml", $"instructions: Help.\nnotify:\n{line}\n");

        AssertLocated(error, "support.yaml", row, column);
        Assert.That(error.Problem, Does.StartWith(problem));
    }

    [Test]
    public void Should_not_repeat_a_slack_url_in_its_error()
    {
        var error = ErrorFor("support.yaml", "instructions: Help.\nnotify:\n  slack: ftp://hooks.slack.com/services/T0/B0/secret\n");

        Assert.That(error.Message, Does.Not.Contain("secret"));
    }

    [Test]
    public void Should_take_the_name_from_the_file_and_accept_a_matching_name_key()
    {
        var agent = Parse("/some/folder/support-bot.yml", """
            name: support-bot
            instructions: Help.
            """);

        Assert.That(agent.Name, Is.EqualTo("support-bot"));
    }

    [Test]
    public void Should_use_the_defaults_for_what_is_left_out()
    {
        var agent = Parse("minimal.yaml", "instructions: Be useful.");

        Assert.Multiple(() =>
        {
            Assert.That(agent.Description, Is.Empty);
            Assert.That(agent.Model.Name, Is.Null);
            Assert.That(agent.Tools, Is.Empty);
            Assert.That(agent.Limits, Is.EqualTo(AgentLimits.Default));
            Assert.That(agent.Notify.Webhook, Is.Null);
        });
    }

    [TestCase("500ms", 500d)]
    [TestCase("30s", 30_000d)]
    [TestCase("5m", 300_000d)]
    [TestCase("2h", 7_200_000d)]
    [TestCase("1.5h", 5_400_000d)]
    public void Should_read_a_deadline_in_every_unit(string deadline, double milliseconds)
    {
        var agent = Parse("timed.yaml", $"""
            instructions: Hurry.
            limits:
              deadline: {deadline}
            """);

        Assert.That(agent.Limits.Deadline, Is.EqualTo(TimeSpan.FromMilliseconds(milliseconds)));
    }

    [TestCase("instructions: Fine.\ndescription: a: b\n", 2, 15, "While scanning a plain scalar value, found invalid mapping.")]
    [TestCase("instructions: Fine.\ntools:\n  - calculator\n - http_get\n", 4, 2, "While parsing a block mapping, did not find expected key.")]
    [TestCase("instructions: Fine.\nlimits: {max_steps: 3\n", 3, 1, "While parsing a flow mapping, did not find expected ',' or '}'.")]
    [TestCase("description: Twice.\ninstructions: Fine.\ninstructions: Again.\n", 3, 1, "Duplicate key instructions")]
    public void Should_name_the_file_and_line_of_a_yaml_syntax_error(string yaml, long line, long column, string problem)
    {
        var error = ErrorFor("agents/broken.yaml", yaml);

        AssertLocated(error, "agents/broken.yaml", line, column);
        Assert.That(error.Problem, Is.EqualTo("invalid YAML: " + problem));
    }

    [Test]
    public void Should_name_the_file_and_line_of_an_unknown_tool()
    {
        var error = ErrorFor("agents/helper.yaml", """
            instructions: Help.
            tools:
              - calculator
              - rm_rf
              - http_get
            """);

        AssertLocated(error, "agents/helper.yaml", 4, 5);
        Assert.That(error.Problem, Is.EqualTo($"unknown tool 'rm_rf'. Known tools: {string.Join(", ", ShippedTools.Catalog.Names)}; another agent is called as agent:NAME."));
    }

    [Test]
    public void Should_refuse_a_tool_listed_twice()
    {
        var error = ErrorFor("twice.yaml", """
            instructions: Help.
            tools: [calculator, calculator]
            """);

        AssertLocated(error, "twice.yaml", 2, 21);
        Assert.That(error.Problem, Is.EqualTo("tool 'calculator' is listed twice."));
    }

    [TestCase("max_steps: 0", "limits.max_steps must be a whole number from 1 to 1,000, not '0'.")]
    [TestCase("max_steps: abc", "limits.max_steps must be a whole number from 1 to 1,000, not 'abc'.")]
    [TestCase("max_steps: -3", "limits.max_steps must be a whole number from 1 to 1,000, not '-3'.")]
    [TestCase("max_steps: 1001", "limits.max_steps must be a whole number from 1 to 1,000, not '1001'.")]
    [TestCase("max_tokens: 2.5", "limits.max_tokens must be a whole number from 1 to 100,000,000, not '2.5'.")]
    [TestCase("deadline: soon", "limits.deadline 'soon' is not a duration; write it like 500ms, 30s, 5m or 2h.")]
    [TestCase("deadline: 0s", "limits.deadline must be more than zero and at most 7 days, not '0s'.")]
    [TestCase("deadline: 200h", "limits.deadline must be more than zero and at most 7 days, not '200h'.")]
    public void Should_name_the_line_and_column_of_a_bad_limit(string limit, string problem)
    {
        var error = ErrorFor("limited.yaml", $"""
            instructions: Work.
            limits:
              {limit}
            """);

        var valueColumn = limit.IndexOf(':', StringComparison.Ordinal) + 2 + 3;
        AssertLocated(error, "limited.yaml", 3, valueColumn);
        Assert.That(error.Problem, Is.EqualTo(problem));
    }

    [Test]
    public void Should_name_the_line_and_column_of_an_unknown_key()
    {
        var error = ErrorFor("typo.yaml", """
            instructions: Work.
            limits:
              max_step: 3
            """);

        AssertLocated(error, "typo.yaml", 3, 3);
        Assert.That(error.Problem, Is.EqualTo("unknown key 'max_step' in 'limits'. Allowed keys: max_steps, max_tokens, deadline, max_replans, max_cost."));
    }

    [Test]
    public void Should_name_the_line_of_an_unknown_top_level_key()
    {
        var error = ErrorFor("typo.yaml", """
            instructions: Work.
            tool: [calculator]
            """);

        AssertLocated(error, "typo.yaml", 2, 1);
        Assert.That(error.Problem, Does.StartWith("unknown key 'tool' in an agent definition. Allowed keys: name, description, instructions,"));
    }

    [Test]
    public void Should_say_that_instructions_are_missing()
    {
        var error = ErrorFor("silent.yaml", """
            description: No instructions here.
            tools: [calculator]
            """);

        AssertLocated(error, "silent.yaml", 1, 1);
        Assert.That(error.Problem, Is.EqualTo("'instructions' is missing: tell the agent what it is for and how to work."));
    }

    [Test]
    public void Should_say_that_instructions_are_empty()
    {
        var error = ErrorFor("blank.yaml", """
            description: Blank.
            instructions: "   "
            """);

        AssertLocated(error, "blank.yaml", 2, 15);
        Assert.That(error.Problem, Is.EqualTo("'instructions' is empty."));
    }

    [Test]
    public void Should_say_that_an_empty_file_needs_instructions()
    {
        var error = ErrorFor("empty.yaml", "# nothing but a comment\n");

        AssertLocated(error, "empty.yaml", 1, 1);
        Assert.That(error.Problem, Does.Contain("the file is empty"));
    }

    [Test]
    public void Should_name_the_line_of_a_name_that_does_not_match_the_file()
    {
        var error = ErrorFor("agents/assistant.yaml", """
            # The name must be the file's.
            name: helper
            instructions: Help.
            """);

        AssertLocated(error, "agents/assistant.yaml", 2, 7);
        Assert.That(error.Problem, Is.EqualTo("name 'helper' does not match the file name; an agent is named after its file ('assistant')."));
    }

    [TestCase("Assistant.yaml")]
    [TestCase("my_agent.yaml")]
    [TestCase("1st.yaml")]
    public void Should_refuse_a_file_name_that_is_not_a_valid_agent_name(string file)
    {
        var error = ErrorFor(file, "instructions: Help.");

        AssertLocated(error, file, 1, 1);
        Assert.That(error.Problem, Does.Contain("is not a valid agent name"));
    }

    [TestCase("ftp://files.example.com/hook")]
    [TestCase("file:///etc/passwd")]
    [TestCase("hooks.example.com/agentry")]
    public void Should_name_the_line_of_a_webhook_that_is_not_http(string webhook)
    {
        var error = ErrorFor("notifying.yaml", $"""
            instructions: Tell me.
            notify:
              webhook: {webhook}
            """);

        AssertLocated(error, "notifying.yaml", 3, 12);
        Assert.That(error.Problem, Is.EqualTo($"notify.webhook '{webhook}' is not an absolute http or https URL."));
    }

    [Test]
    public void Should_refuse_an_unsupported_strategy()
    {
        var error = ErrorFor("planner.yaml", """
            instructions: Plan.
            strategy: tree-of-thought
            """);

        AssertLocated(error, "planner.yaml", 2, 11);
        Assert.That(error.Problem, Is.EqualTo("strategy 'tree-of-thought' is not supported; use 'react' or 'plan-and-execute'."));
    }

    [Test]
    public void Should_read_a_plan_and_execute_agent_with_its_replan_limit()
    {
        var agent = Parse("planner.yaml", """
            instructions: Plan.
            strategy: plan-and-execute
            limits:
              max_replans: 0
            """);

        Assert.That((agent.Strategy, agent.Limits.MaxReplans), Is.EqualTo((PlanningStrategy.PlanAndExecute, 0)));
        Assert.That(Parse("default.yaml", "instructions: Plan.\nstrategy: plan-and-execute").Limits.MaxReplans, Is.EqualTo(2));
    }

    [Test]
    public void Should_refuse_a_replan_limit_for_a_react_agent()
    {
        var error = ErrorFor("reacting.yaml", """
            instructions: Act.
            limits:
              max_replans: 3
            """);

        AssertLocated(error, "reacting.yaml", 3, 16);
        Assert.That(error.Problem, Is.EqualTo("limits.max_replans applies only to 'strategy: plan-and-execute'; remove it or change the strategy."));
    }

    [Test]
    public void Should_refuse_a_replan_limit_out_of_range()
    {
        var error = ErrorFor("planner.yaml", """
            instructions: Plan.
            strategy: plan-and-execute
            limits:
              max_replans: 21
            """);

        Assert.That(error.Problem, Is.EqualTo("limits.max_replans must be a whole number from 0 to 20, not '21'."));
    }

    [Test]
    public void Should_refuse_tools_that_are_not_a_list()
    {
        var error = ErrorFor("scalar.yaml", """
            instructions: Work.
            tools: calculator
            """);

        AssertLocated(error, "scalar.yaml", 2, 8);
        Assert.That(error.Problem, Is.EqualTo("'tools' must be a list of tool names, or of mappings with a tool's name and its policy."));
    }
}
