using System.Text.Json;
using Agentry.Samples.DataPipeline;
using Agentry.Tools;
using Microsoft.Extensions.Options;
using static Agentry.Tests.Cases.DataPipelineScenario;

namespace Agentry.Tests.Cases;

/// The data-pipeline sample's guards, called as the ToolExecutor calls them: only what passed in
/// staging is promoted, production's checks decide in the promotion's own transaction, and a
/// migration can neither change the checks (or the data they compare with) nor leave its transaction.
public sealed class When_a_warehouse_migration_is_promoted
{
    private TempFolder _folder = null!;
    private Warehouse _warehouse = null!;

    private string Prod => $"Data Source={_folder.File("warehouse.db")};Pooling=False";

    private string Staging => $"Data Source={_folder.File("warehouse-staging.db")};Pooling=False";

    [SetUp]
    public void Start()
    {
        _folder = new TempFolder();
        _warehouse = new Warehouse(Options.Create(new WarehouseOptions { ProdConnectionString = Prod, StagingConnectionString = Staging }));
    }

    [TearDown]
    public void Stop() => _folder.Dispose();

    private readonly Guid _run = Guid.NewGuid();

    private ToolInvocation Call(string callId) => new(_run, "default", "data-pipeline", 1, callId);

    private Task<string> Stage(string name, string sql) =>
        new StageMigrationTool(_warehouse, TimeProvider.System).InvokeAsync(JsonDocument.Parse(Arguments(name, sql)).RootElement, Call("call_1"), CancellationToken.None);

    private Task<string> Promote(string name, string sql) =>
        new PromoteMigrationTool(_warehouse, TimeProvider.System).InvokeAsync(JsonDocument.Parse(Arguments(name, sql)).RootElement, Call("call_2"), CancellationToken.None);

    private async Task AssertProductionUntouched()
    {
        Assert.That(await Rows(Prod, "SELECT source_column FROM load_mappings WHERE target_column = 'amount'"), Is.EqualTo(new[] { "amount" }));
        Assert.That(await Rows(Prod, "SELECT count(*) FROM fact_orders WHERE amount IS NULL"), Is.EqualTo(new[] { "12" }));
        Assert.That(await Rows(Prod, "SELECT count(*) FROM migrations"), Is.EqualTo(new[] { "0" }));
    }

    [Test]
    public async Task Should_refuse_to_promote_a_migration_that_was_never_staged()
    {
        var refused = Assert.ThrowsAsync<ToolException>(() => Promote("fix_orders_amount_mapping", Migration));
        Assert.That(refused!.Message, Does.Contain("is not the migration staging holds (none is staged)"));
        await AssertProductionUntouched();
    }

    [Test]
    public async Task Should_refuse_to_promote_a_migration_that_failed_in_staging()
    {
        var staged = JsonDocument.Parse(await Stage("zero_null_amounts", WrongMigration)).RootElement;
        Assert.That(staged.GetProperty("passed").GetBoolean(), Is.False);
        Assert.That(staged.GetProperty("changed_rows").GetInt32(), Is.EqualTo(12));
        Assert.That(await Rows(Staging, "SELECT count(*) FROM fact_orders WHERE amount = 0"), Is.EqualTo(new[] { "12" }), "staging keeps the attempt to look at");

        var refused = Assert.ThrowsAsync<ToolException>(() => Promote("zero_null_amounts", WrongMigration));
        Assert.That(refused!.Message, Does.Contain("zero_null_amounts failed its checks in staging"));
        refused = Assert.ThrowsAsync<ToolException>(() => Promote("fix_orders_amount_mapping", Migration));
        Assert.That(refused!.Message, Does.Contain("not the migration staging holds (zero_null_amounts)"), "another SQL than the staged one");
        await AssertProductionUntouched();
    }

    [Test]
    public async Task Should_roll_back_and_refuse_when_production_fails_the_checks_it_passed_in_staging()
    {
        var staged = JsonDocument.Parse(await Stage("fix_orders_amount_mapping", Migration)).RootElement;
        Assert.That(staged.GetProperty("passed").GetBoolean(), Is.True, staged.ToString());

        // Meanwhile the upstream sent the control totals of a day whose load has not run yet.
        await Rows(Prod, "INSERT INTO src_daily_totals (order_date, orders, total) VALUES ('2026-12-05', 6, 512.40) RETURNING order_date");

        var refused = Assert.ThrowsAsync<ToolException>(() => Promote("fix_orders_amount_mapping", Migration));
        Assert.That(refused!.Message, Does.Contain("would leave checks failing (fact_orders_reconcile_daily_totals (1 violations)); it was rolled back and production is unchanged"));
        await AssertProductionUntouched();
    }

    [Test]
    public async Task Should_promote_once_and_bring_staging_back_to_production()
    {
        await Stage("fix_orders_amount_mapping", Migration);
        var promoted = await Promote("fix_orders_amount_mapping", Migration);
        Assert.That(promoted, Does.StartWith("Promoted fix_orders_amount_mapping to production as migration 1: 13 rows changed"));
        Assert.That(await Promote("fix_orders_amount_mapping", Migration), Is.EqualTo("Migration fix_orders_amount_mapping is already in production (migration 1)."),
            "the same call delivered again");
        Assert.That(await Rows(Staging, "SELECT count(*) FROM migrations"), Is.EqualTo(new[] { "1" }), "staging is production's copy again");
        Assert.That(await Rows(Prod, "SELECT count(*) FROM fact_orders WHERE amount IS NULL"), Is.EqualTo(new[] { "0" }));
    }

    [TestCase("DELETE FROM quality_checks WHERE name = 'load_mappings_match_source'", "quality_checks is read-only for migrations")]
    [TestCase("UPDATE src_daily_totals SET total = 0", "src_daily_totals is read-only for migrations")]
    [TestCase("UPDATE fact_orders SET amount = 0 WHERE amount IS NULL; COMMIT; DELETE FROM fact_orders;", "leave out BEGIN, COMMIT, ROLLBACK and SAVEPOINT")]
    [TestCase("ATTACH DATABASE 'elsewhere.db' AS elsewhere", "may not attach other databases")]
    [TestCase("PRAGMA writable_schema = ON", "may not run PRAGMA writable_schema")]
    [TestCase("UPDATE fact_orders SET no_such_column = 1", "no such column: no_such_column")]
    public async Task Should_refuse_a_migration_that_reaches_beyond_the_warehouses_own_tables(string sql, string why)
    {
        var refused = Assert.ThrowsAsync<ToolException>(() => Stage("sneaky", sql));
        Assert.That(refused!.Message, Does.StartWith("The migration failed in staging, which is unchanged:").And.Contain(why));
        Assert.That(await Rows(Staging, "SELECT count(*) FROM quality_checks"), Is.EqualTo(new[] { "3" }));
        Assert.That(await Rows(Staging, "SELECT count(*) FROM fact_orders WHERE amount IS NULL"), Is.EqualTo(new[] { "12" }));
    }

    [Test]
    public void Should_answer_queries_but_refuse_writes_outside_migrations()
    {
        var query = new QueryWarehouseTool(_warehouse);
        var refused = Assert.ThrowsAsync<ToolException>(() => query.InvokeAsync(JsonDocument.Parse("""{"sql":"DELETE FROM fact_orders"}""").RootElement, Call("call_3"), CancellationToken.None));
        Assert.That(refused!.Message, Does.Contain("readonly database"));
    }
}
