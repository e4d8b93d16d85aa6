using System.Text.Json;
using Agentry.Contracts;
using Agentry.Tools;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.ToolExecutor;

[TestFixture]
public sealed class When_sql_query_reads_a_database
{
    private static readonly ToolInvocation Invocation = new(Guid.NewGuid(), "tenant-1", "assistant", 1, "call_1_1");
    private TempFolder _folder = null!;
    private ServiceProvider _services = null!;
    private ITool _tool = null!;

    [SetUp]
    public void CreateDatabase()
    {
        _folder = new TempFolder();
        using (var connection = new SqliteConnection(_folder.SqliteConnectionString))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, total REAL); INSERT INTO orders (customer, total) VALUES ('ada', 10.5), ('bob', 3), ('ada', 7);";
            command.ExecuteNonQuery();
        }

        _services = ToolServices.Build(new Dictionary<string, string?>
        {
            // Mode=ReadWriteCreate is overridden: sql_query always opens the file read-only.
            ["Tools:SqlQuery:ConnectionString"] = _folder.SqliteConnectionString + ";Mode=ReadWriteCreate",
            ["Tools:SqlQuery:MaxRows"] = "2",
            ["Tools:SqlQuery:Timeout"] = "00:00:00.300",
        });
        _tool = _services.GetServices<ITool>().OfType<SqlQueryTool>().Single();
    }

    [TearDown]
    public async Task Clean()
    {
        await _services.DisposeAsync();
        _folder.Dispose();
    }

    private Task<string> QueryAsync(string sql, object? parameters = null) =>
        _tool.InvokeAsync(JsonSerializer.SerializeToElement(parameters is null ? new { sql } : (object)new { sql, parameters }), Invocation, CancellationToken.None);

    private long Count()
    {
        using var connection = new SqliteConnection(_folder.SqliteConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM orders";
        return (long)command.ExecuteScalar()!;
    }

    [Test]
    public async Task Should_return_rows_as_json_with_parameters()
    {
        var output = await QueryAsync("SELECT customer, sum(total) AS spent FROM orders WHERE customer = :who GROUP BY customer", new { who = "ada" });

        Assert.That(output, Is.EqualTo("""[{"customer":"ada","spent":17.5}]"""));
    }

    [Test]
    public async Task Should_cut_the_rows_at_the_limit_and_say_so()
    {
        var output = await QueryAsync("/* all of them */ SELECT id FROM orders ORDER BY id");

        Assert.That(output, Is.EqualTo($$"""[{"id":1},{"id":2}]{{Environment.NewLine}}[only the first 2 rows]"""));
    }

    [TestCase("INSERT INTO orders (customer, total) VALUES ('eve', 1)")]
    [TestCase("DROP TABLE orders")]
    [TestCase("SELECT 1; DELETE FROM orders")]
    [TestCase("SELECT 1;DELETE FROM orders;")]
    [TestCase("WITH x AS (SELECT 1) DELETE FROM orders")]
    [TestCase("ATTACH DATABASE '/tmp/agentry-attack.db' AS other")]
    [TestCase("PRAGMA writable_schema = 1")]
    [TestCase("PRAGMA query_only = 0")]
    [TestCase("select * from orders; -- ok\n UPDATE orders SET total = 0")]
    public void Should_refuse_anything_that_could_write(string sql)
    {
        var error = Assert.ThrowsAsync<ToolException>(() => QueryAsync(sql))!;

        Assert.That(error.Kind, Is.EqualTo(ToolErrorKind.PermissionDenied));
        Assert.That(Count(), Is.EqualTo(3));
        Assert.That(File.Exists("/tmp/agentry-attack.db"), Is.False);
    }

    [Test]
    public void Should_stop_a_query_that_never_ends()
    {
        var error = Assert.ThrowsAsync<ToolException>(() => QueryAsync("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n"))!;

        Assert.That(error.Kind, Is.EqualTo(ToolErrorKind.Timeout));
    }

    [Test]
    public async Task Should_refuse_when_no_database_is_configured()
    {
        await using var services = ToolServices.Build();
        var tool = services.GetServices<ITool>().OfType<SqlQueryTool>().Single();

        var error = Assert.ThrowsAsync<ToolException>(() => tool.InvokeAsync(JsonSerializer.SerializeToElement(new { sql = "SELECT 1" }), Invocation, CancellationToken.None))!;

        Assert.That(error.Message, Is.EqualTo("No database is configured for sql_query (set Tools:SqlQuery:ConnectionString)."));
    }
}
