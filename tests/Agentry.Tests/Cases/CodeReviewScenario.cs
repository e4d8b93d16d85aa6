using System.Diagnostics;
using System.Text.Json;
using Agentry.Tests.Llm;

namespace Agentry.Tests.Cases;

/// The code-review case's script (docs/cases/code-review.md), shared by the embedded and the
/// distributed test: the model's side of reviewing pull request #1 of the sample forge, and what the
/// forge holds afterwards. The analyser's and the tests' output come from the real pyflakes and
/// unittest in the sandbox; the script only decides what the model does with them.
public static class CodeReviewScenario
{
    public const string RunTests = "cd pr-1 && pyflakes3 . ; python3 -m unittest 2>&1";

    /// The first patch: what pyflakes found, fixed; the boundary bug the tests find, left in.
    public static readonly string HalfFixed = Pricing("quantity > BULK_QUANTITY");

    public static readonly string Fixed = Pricing("quantity >= BULK_QUANTITY");

    public static string Pricing(string condition) => $$""""
        from decimal import ROUND_HALF_UP, Decimal

        CENT = Decimal("0.01")


        def line_total(unit_price, quantity):
            """The price of one line: unit price times quantity, rounded to the cent."""
            if quantity < 0:
                raise ValueError("quantity must not be negative")
            return (Decimal(unit_price) * quantity).quantize(CENT, ROUND_HALF_UP)


        def order_total(lines):
            """The sum of an order's lines, each a (unit_price, quantity) pair."""
            return sum((line_total(price, quantity) for price, quantity in lines), Decimal("0.00"))


        BULK_QUANTITY = 10
        BULK_RATE = Decimal("0.10")


        def bulk_discount(total, quantity):
            """10% off an order of BULK_QUANTITY items or more."""
            if {{condition}}:
                return (total * (1 - BULK_RATE)).quantize(CENT, ROUND_HALF_UP)
            return total

        """";

    public static FakeToolCall Write(string id, string content) =>
        new(id, "tools-write_file", JsonSerializer.Serialize(new { path = "pr-1/pricing.py", content }));

    public static FakeToolCall Shell(string id, string command) =>
        new(id, "tools-run_shell", JsonSerializer.Serialize(new { command }));

    public const string Explanation = "bulk_discount() could not work: pyflakes reports the undefined name 'totl' (a NameError on every discounted order) and the unused import of math, and test_takes_ten_percent_off_at_ten_items fails because orders of exactly 10 items got no discount (> instead of >=, while the description says 10 items or more). The fix uses total, drops the import and compares with >=; pyflakes is clean and all 6 tests pass.";

    public static FakeToolCall OpenFix(string id) =>
        new(id, "tools-forge_open_fix", JsonSerializer.Serialize(new
        {
            number = 1,
            explanation = Explanation,
            files = new[] { "pricing.py" },
            comments = new object[]
            {
                new { path = "pricing.py", line = 1, body = "pyflakes: 'math' imported but unused." },
                new { path = "pricing.py", line = 25, body = "Orders of exactly BULK_QUANTITY items must get the discount too: >=." },
                new { path = "pricing.py", line = 26, body = "pyflakes: undefined name 'totl' (a NameError at run time); it is total." },
            },
        }));

    /// The review: pull, check out, analyse and test (both at once), a patch that fixes only what
    /// the analyser saw and still fails a test, the right patch, green tests, the fix opened.
    public static void Script(OpenAiFake fake) => fake
        .ReplyWithToolCalls(new FakeToolCall("call_1", "tools-forge_pull_request", """{"number":1}"""), new FakeToolCall("call_2", "tools-forge_checkout", """{"number":1}"""))
        .ReplyWithToolCalls(Shell("call_3", "cd pr-1 && pyflakes3 ."), Shell("call_4", "cd pr-1 && python3 -m unittest 2>&1"))
        .ReplyWithToolCalls(Write("call_5", HalfFixed))
        .ReplyWithToolCalls(Shell("call_6", RunTests))
        .ReplyWithToolCalls(Write("call_7", Fixed))
        .ReplyWithToolCalls(Shell("call_8", RunTests))
        .ReplyWithToolCalls(OpenFix("call_9"))
        .ReplyWithAnswer("Opened pull request #2 (fix/pr-1) fixing #1: the undefined name totl, the unused import and the 10-item boundary; pyflakes is clean and all 6 tests pass.", promptTokens: 1200, completionTokens: 80);

    /// What the model saw along the way, from the real analyser and the real tests.
    public static void AssertTheModelSawTheAnalyserAndTheTests(IReadOnlyList<FakeRequest> requests, string output)
    {
        Assert.That(requests, Has.Count.EqualTo(8), output);
        Assert.That(requests[1].Body, Does.Contain("Bulk discount for large orders").And.Contain("totl * (1 - BULK_RATE)").And.Contain("Checked out pull request #1"), "the pull request and its checkout");
        Assert.That(requests[2].Body, Does.Contain("undefined name 'totl'").And.Contain("'math' imported but unused"), "pyflakes ran in the sandbox");
        Assert.That(requests[2].Body, Does.Contain("FAILED (failures=1, errors=1)"), "the pull request's own tests fail");
        Assert.That(requests[4].Body, Does.Contain("FAIL: test_takes_ten_percent_off_at_ten_items").And.Contain("FAILED (failures=1)"), "the first patch still fails a test");
        Assert.That(requests[6].Body, Does.Contain("Ran 6 tests").And.Contain("\\nOK"), "the second patch passes");
        Assert.That(requests[7].Body, Does.Contain("Opened pull request #2 from fix/pr-1"));
    }

    /// The forge afterwards: the fixed file on fix/pr-1 (a commit on top of the reviewed head), the
    /// pull request from it, the review with its inline comments.
    public static async Task AssertTheFixIsOpenAsync(string forgeRoot, Guid? runId = null)
    {
        var repository = Path.Combine(forgeRoot, "repositories", "pricing.git");
        Assert.That(await GitAsync(repository, "show", "fix/pr-1:pricing.py"), Is.EqualTo(Fixed));
        Assert.That(await GitAsync(repository, "rev-parse", "fix/pr-1~1"), Is.EqualTo(await GitAsync(repository, "rev-parse", "feature/bulk-discount")), "one commit on top of the reviewed head");
        Assert.That(await GitAsync(repository, "log", "-1", "--format=%an|%s", "fix/pr-1"), Is.EqualTo("Agentry (code-review)|Fix #1: bulk_discount() could not work: pyflakes reports the undefin...\n"));

        var forge = Path.Combine(forgeRoot, "forge.db");
        Assert.That(await Rows(forge, "SELECT number || ' ' || base || ' <- ' || head || ' by ' || author || ' ' || state FROM pull_requests ORDER BY number"),
            Is.EqualTo(new[] { "1 main <- feature/bulk-discount by dev-alice open", "2 feature/bulk-discount <- fix/pr-1 by code-review open" }));
        Assert.That(await Rows(forge, "SELECT pull_request || ' ' || fix_pull_request || ' ' || fix_branch || ' ' || author || ' ' || body FROM reviews"),
            Is.EqualTo(new[] { $"1 2 fix/pr-1 code-review {Explanation}" }));
        if (runId is { } id)
        {
            Assert.That(await Rows(forge, "SELECT run_id FROM reviews"), Is.EqualTo(new[] { id.ToString() }));
        }

        Assert.That(await Rows(forge, "SELECT path || ':' || line || ' ' || body FROM review_comments ORDER BY line"), Is.EqualTo(new[]
        {
            "pricing.py:1 pyflakes: 'math' imported but unused.",
            "pricing.py:25 Orders of exactly BULK_QUANTITY items must get the discount too: >=.",
            "pricing.py:26 pyflakes: undefined name 'totl' (a NameError at run time); it is total.",
        }));
    }

    public static async Task<string> GitAsync(string repository, params string[] arguments)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])["--git-dir", repository, .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        using var git = Process.Start(start)!;
        var output = await git.StandardOutput.ReadToEndAsync();
        await git.WaitForExitAsync();
        return git.ExitCode == 0 ? output : $"(git exited {git.ExitCode}: {await git.StandardError.ReadToEndAsync()})";
    }

    public static async Task<List<string>> Rows(string database, string sql)
    {
        var rows = new List<string>();
        if (!File.Exists(database))
        {
            return rows;
        }

        await using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Pooling=False");
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }
}
