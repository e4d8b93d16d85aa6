using System.Text.Json;
using Agentry.Contracts;
using Agentry.Evaluation.Datasets;

namespace Agentry.Tests.Evaluation;

public sealed class When_a_dataset_is_loaded
{
    private const string Full =
        """
        agent: assistant
        version: 3
        min_pass_rate: 0.8
        judge: { provider: judges, name: gpt-4o }
        cases:
          - id: arithmetic
            goal: What is 17 * 23 + 4?
            input: { currency: EUR, amount: 12, strict: true, code: "007" }
            approve: true
            min_pass_rate: 0.6
            expect:
              status: completed
              answer:
                exact: "395"
                contains: ["39", "5"]
                not_contains: error
                regex: '\b395\b'
              output_schema: { type: object, required: [total] }
              tools:
                called:
                  - calculator
                  - { name: calculator, arguments: { expression: "17 * 23 + 4" } }
                not_called: [http_get]
              max_steps: 3
              max_tokens: 5000
              max_cost: 0.05
              max_latency: 1500ms
              rubric:
                criteria: States 395.
                min_score: 0.9
          - id: second
            agent: handbook
            goal: Another question
            expect:
              rubric: Says so.
        """;

    [Test]
    public void Should_read_every_expectation_of_a_yaml_dataset()
    {
        var dataset = DatasetLoader.Parse("evals/sample.yaml", Full);
        Assert.Multiple(() =>
        {
            Assert.That(dataset.Name, Is.EqualTo("sample"));
            Assert.That(dataset.Version, Does.Match("^3@[0-9a-f]{12}$"));
            Assert.That(dataset.Agent, Is.EqualTo("assistant"));
            Assert.That(dataset.JudgeModel, Is.EqualTo(new Agentry.Agents.ModelChoice("gpt-4o", "judges")));
            Assert.That(dataset.Cases, Has.Count.EqualTo(2));
        });
        var first = dataset.Cases[0];
        var expect = first.Expect;
        Assert.Multiple(() =>
        {
            Assert.That(first.Line, Is.EqualTo(6));
            Assert.That(first.Approve, Is.True);
            Assert.That(dataset.ThresholdOf(first), Is.EqualTo(0.6));
            Assert.That(dataset.ThresholdOf(dataset.Cases[1]), Is.EqualTo(0.8));
            Assert.That(dataset.AgentOf(dataset.Cases[1], null), Is.EqualTo("handbook"));
            Assert.That(dataset.AgentOf(dataset.Cases[1], "other"), Is.EqualTo("other"));
            Assert.That(first.Input!.Value.GetRawText(), Is.EqualTo("""{"currency":"EUR","amount":12,"strict":true,"code":"007"}"""));
            Assert.That(expect.Status, Is.EqualTo(RunStatus.Completed));
            Assert.That(expect.Exact, Is.EqualTo("395"));
            Assert.That(expect.Contains, Is.EqualTo(new[] { "39", "5" }));
            Assert.That(expect.NotContains, Is.EqualTo(new[] { "error" }));
            Assert.That(expect.Matches.Single().ToString(), Is.EqualTo(@"\b395\b"));
            Assert.That(expect.OutputSchema, Is.Not.Null);
            Assert.That(expect.Called.Select(c => c.Tool), Is.EqualTo(new[] { "calculator", "calculator" }));
            Assert.That(expect.Called[1].Arguments!.Value.GetProperty("expression").GetString(), Is.EqualTo("17 * 23 + 4"));
            Assert.That(expect.NotCalled, Is.EqualTo(new[] { "http_get" }));
            Assert.That(expect.MaxSteps, Is.EqualTo(3));
            Assert.That(expect.MaxTokens, Is.EqualTo(5000));
            Assert.That(expect.MaxCost, Is.EqualTo(0.05m));
            Assert.That(expect.MaxLatency, Is.EqualTo(TimeSpan.FromMilliseconds(1500)));
            Assert.That(expect.Rubric, Is.EqualTo(new Agentry.Evaluation.Datasets.Rubric("States 395.", 0.9)));
            Assert.That(dataset.Cases[1].Expect.Rubric!.MinScore, Is.EqualTo(Agentry.Evaluation.Datasets.Rubric.DefaultMinScore));
        });
    }

    [Test]
    public void Should_read_a_jsonl_dataset_with_its_settings_line()
    {
        var dataset = DatasetLoader.Parse("evals/lines.jsonl",
            """
            {"dataset": {"agent": "assistant", "min_pass_rate": 0.7}}
            {"id": "a", "goal": "What is 2 + 2?", "expect": {"answer": {"contains": "4"}, "tools": {"called": [{"name": "calculator", "arguments": {"expression": "2 + 2"}}]}}}

            {"id": "b", "goal": "What time is it?", "input": {"n": 1}}
            """);
        Assert.Multiple(() =>
        {
            Assert.That(dataset.Agent, Is.EqualTo("assistant"));
            Assert.That(dataset.MinPassRate, Is.EqualTo(0.7));
            Assert.That(dataset.Cases.Select(c => (c.Id, c.Line)), Is.EqualTo(new[] { ("a", 2), ("b", 4) }));
            Assert.That(dataset.Cases[0].Expect.Called[0].Arguments!.Value.GetProperty("expression").GetString(), Is.EqualTo("2 + 2"));
            Assert.That(dataset.Cases[1].Input!.Value.GetProperty("n").GetInt32(), Is.EqualTo(1));
        });
    }

    [Test]
    public void Should_version_the_dataset_by_its_content()
    {
        var one = DatasetLoader.Parse("d.yaml", "cases:\n  - { id: a, goal: x }\n");
        var same = DatasetLoader.Parse("d.yaml", "cases:\r\n  - { id: a, goal: x }\r\n");
        var changed = DatasetLoader.Parse("d.yaml", "cases:\n  - { id: a, goal: y }\n");
        Assert.That(one.Version, Is.EqualTo(same.Version));
        Assert.That(one.Version, Is.Not.EqualTo(changed.Version));
    }

    // Each malformed dataset names the file, the line and column of the problem, and what to do.
    [TestCase("cases:\n  - id: a\n    goal: x\n    expect:\n      answr: { contains: x }\n", 5, 7, "unknown key 'answr' in 'expect'. Allowed keys:")]
    [TestCase("cases:\n  - id: a\n", 2, 5, "case 'a' needs a 'goal'")]
    [TestCase("cases:\n  - goal: x\n", 2, 5, "a case needs an 'id'")]
    [TestCase("cases:\n  - { id: a, goal: x }\n  - { id: a, goal: y }\n", 3, 11, "case 'a' is defined twice (also at line 2)")]
    [TestCase("cases:\n  - id: a\n    goal: x\n    expect:\n      answer:\n        regex: '(unclosed'\n", 6, 16, "is not a valid .NET regular expression")]
    [TestCase("cases:\n  - id: a\n    goal: x\n    expect:\n      max_latency: soon\n", 5, 20, "must be a duration like 500ms, 5s, 2m or 1h, not 'soon'")]
    [TestCase("cases:\n  - id: a\n    goal: x\n    expect:\n      status: done\n", 5, 15, "expect.status must be completed, failed, escalated or cancelled")]
    [TestCase("cases:\n  - id: a\n    goal: x\n    min_pass_rate: 80%\n", 4, 20, "must be a number from 0 to 1")]
    [TestCase("cases:\n  - id: a\n    goal: [x\n", 4, 1, "invalid YAML")]
    [TestCase("agent: Assistant\ncases:\n  - { id: a, goal: x }\n", 1, 8, "is not an agent name")]
    [TestCase("description: no cases\n", 1, 1, "'cases' is missing")]
    [TestCase("cases:\n  - id: a\n\tgoal: x\n", 3, 1, "a tab is used for indentation")]
    [TestCase("cases:\n  - id: a\n    goal: x\n    expect:\n      tools:\n        called:\n          - { tool: calculator }\n", 7, 15, "unknown key 'tool' in a tool in expect.tools.called")]
    public void Should_name_the_file_line_and_column_of_a_problem(string yaml, int line, int column, string problem)
    {
        var error = Assert.Throws<DatasetException>(() => DatasetLoader.Parse("agents/evals/broken.yaml", yaml))!;
        Assert.That(error.Message, Does.StartWith($"agents/evals/broken.yaml:{line}:{column}: "));
        Assert.That(error.Message, Does.Contain(problem));
    }

    [TestCase("{\"id\": \"a\", \"goal\": \"x\"}\n{\"id\": \"b\", \"goal\": }\n", 2, 21, "invalid JSON")]
    [TestCase("{\"id\": \"a\", \"goal\": \"x\"}\n\n{\"id\": \"b\", \"goal\": \"y\", \"expect\": {\"max_steps\": 0}}\n", 3, 50, "expect.max_steps must be a whole number from 1")]
    [TestCase("{\"id\": \"a\", \"goal\": \"x\"}\n{\"dataset\": {\"agent\": \"assistant\"}}\n", 2, 1, "must come first")]
    public void Should_name_the_line_of_a_problem_in_a_jsonl_dataset(string jsonl, int line, int column, string problem)
    {
        var error = Assert.Throws<DatasetException>(() => DatasetLoader.Parse("evals/broken.jsonl", jsonl))!;
        Assert.That(error.Message, Does.StartWith($"evals/broken.jsonl:{line}:{column}: "));
        Assert.That(error.Message, Does.Contain(problem));
    }

    [Test]
    public void Should_say_where_a_missing_dataset_was_looked_for()
    {
        var error = Assert.Throws<FileNotFoundException>(() => DatasetLoader.LoadFile("no/such/dataset.yaml"))!;
        Assert.That(error.Message, Does.Contain("No dataset at").And.Contain("agents/evals/"));
    }

    [Test]
    public void Should_load_every_shipped_dataset()
    {
        var files = Directory.EnumerateFiles(Deploy.RepositoryFiles.PathOf("agents/evals"), "*.yaml").ToList();
        Assert.That(files.Select(Path.GetFileNameWithoutExtension), Is.SupersetOf(new[] { "assistant", "handbook", "customer-support" }));
        foreach (var file in files)
        {
            Assert.That(DatasetLoader.LoadFile(file).Cases, Is.Not.Empty, file);
        }
    }

    [Test]
    public void Should_keep_quoted_numbers_as_text_and_plain_ones_as_numbers()
    {
        var dataset = DatasetLoader.Parse("d.yaml", "cases:\n  - id: a\n    goal: x\n    input: { a: \"17\", b: 17, c: 1.5, d: null, e: [true, 'x'] }\n");
        Assert.That(JsonSerializer.Serialize(dataset.Cases[0].Input), Is.EqualTo("""{"a":"17","b":17,"c":1.5,"d":null,"e":[true,"x"]}"""));
    }
}
