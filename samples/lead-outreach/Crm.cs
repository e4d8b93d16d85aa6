using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Agentry.Samples.LeadOutreach;

/// Where the lead-outreach sample keeps its CRM (Tools:Crm). Without a connection string it is a
/// file next to the embedded transcript store.
public sealed class CrmOptions
{
    public const string Section = "Tools:Crm";

    public string ConnectionString { get; set; } =
        $"Data Source={Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "agentry", "crm.db")}";
}

/// A lead as the outreach tools see it: where it is in the sequence and, in Stop, why it must not be
/// mailed again (suppressed, unsubscribed, bounced or replied), whatever its stage says.
public sealed record Lead(string Id, string Name, string Email, string Title, string CompanyId, string Company, string Owner,
    string Stage, int Step, string? NextTouchOn, string? Stop)
{
    public string FirstName => Name.Split(' ')[0];
}

/// The sample's stand-in for a CRM (HubSpot, Salesforce) with the email service's events recorded in
/// it, in one SQLite file. A new, empty database gets the demo leads (CrmDemoData), dated from the
/// day it is created; a database with leads of its own is used as it is. "Today" is the UTC date of
/// the clock: next-touch dates are days, and the schedule runs on weekday mornings in Europe.
public sealed class Crm(IOptions<CrmOptions> options, TimeProvider clock)
{
    private readonly Lazy<string> _connectionString = new(() => Prepare(options.Value.ConnectionString, clock));

    public static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public DateOnly Today => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    public string Now => clock.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString.Value);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    /// Reads the lead from the `lead_state` view, or null when the CRM has no such lead.
    public static async Task<Lead?> FindLeadAsync(SqliteConnection connection, SqliteTransaction? transaction, string leadId, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT id, name, email, title, company_id, company, owner, stage, step, next_touch_on, stop FROM lead_state WHERE id = $id";
        command.Parameters.AddWithValue("$id", leadId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new Lead(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                reader.GetString(6), reader.GetString(7), reader.GetInt32(8), reader.IsDBNull(9) ? null : reader.GetString(9), reader.IsDBNull(10) ? null : reader.GetString(10))
            : null;
    }

    public static async Task<Lead> LeadAsync(SqliteConnection connection, SqliteTransaction? transaction, string leadId, CancellationToken cancellationToken) =>
        await FindLeadAsync(connection, transaction, leadId, cancellationToken)
        ?? throw new Agentry.Tools.ToolException(Agentry.Contracts.ToolErrorKind.Failed, $"The CRM has no lead {leadId}: use the ids crm_leads_due returns.", causedByCaller: true);

    public static async Task<int> ExecuteAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string Prepare(string connectionString, TimeProvider clock)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString) { DefaultTimeout = 30 };
        if (!string.IsNullOrEmpty(builder.DataSource) && builder.DataSource != ":memory:" && builder.Mode != SqliteOpenMode.ReadOnly)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(builder.DataSource))!);
        }

        using var connection = new SqliteConnection(builder.ToString());
        connection.Open();
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        // stop: the reason a lead is never mailed again, strongest first. The suppression list is the
        // email service's: an address that unsubscribed from any campaign, even before it was a lead.
        command.CommandText = """
            CREATE TABLE IF NOT EXISTS companies (
              id TEXT PRIMARY KEY, name TEXT NOT NULL, domain TEXT NOT NULL UNIQUE, industry TEXT NOT NULL, employees INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS company_pages (
              id TEXT PRIMARY KEY, company_id TEXT NOT NULL REFERENCES companies(id), kind TEXT NOT NULL, title TEXT NOT NULL,
              url TEXT NOT NULL, published_on TEXT NOT NULL, body TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS leads (
              id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE, title TEXT NOT NULL,
              company_id TEXT NOT NULL REFERENCES companies(id), owner TEXT NOT NULL,
              stage TEXT NOT NULL CHECK (stage IN ('new', 'in_sequence', 'handed_over')), step INTEGER NOT NULL DEFAULT 0,
              next_touch_on TEXT, created_on TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS activities (
              id INTEGER PRIMARY KEY AUTOINCREMENT, lead_id TEXT NOT NULL REFERENCES leads(id),
              kind TEXT NOT NULL CHECK (kind IN ('email_sent', 'opened', 'clicked', 'replied', 'bounced', 'unsubscribed', 'task_logged')),
              step INTEGER, at TEXT NOT NULL, detail TEXT);
            CREATE TABLE IF NOT EXISTS suppressions (email TEXT PRIMARY KEY, reason TEXT NOT NULL, since TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS outbox (
              id INTEGER PRIMARY KEY AUTOINCREMENT, lead_id TEXT NOT NULL REFERENCES leads(id), step INTEGER NOT NULL,
              to_address TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, sources TEXT NOT NULL,
              run_id TEXT NOT NULL, call_id TEXT NOT NULL, queued_at TEXT NOT NULL, UNIQUE (lead_id, step));
            CREATE TABLE IF NOT EXISTS tasks (
              id INTEGER PRIMARY KEY AUTOINCREMENT, lead_id TEXT NOT NULL UNIQUE REFERENCES leads(id), owner TEXT NOT NULL,
              title TEXT NOT NULL, notes TEXT NOT NULL, due_on TEXT NOT NULL, run_id TEXT NOT NULL, call_id TEXT NOT NULL, created_at TEXT NOT NULL);
            CREATE VIEW IF NOT EXISTS lead_state AS
              SELECT l.id, l.name, l.email, l.title, l.company_id, c.name AS company, c.domain, l.owner, l.stage, l.step, l.next_touch_on, l.created_on,
                CASE
                  WHEN EXISTS (SELECT 1 FROM suppressions s WHERE s.email = l.email) THEN 'suppressed'
                  WHEN EXISTS (SELECT 1 FROM activities a WHERE a.lead_id = l.id AND a.kind = 'unsubscribed') THEN 'unsubscribed'
                  WHEN EXISTS (SELECT 1 FROM activities a WHERE a.lead_id = l.id AND a.kind = 'bounced') THEN 'bounced'
                  WHEN EXISTS (SELECT 1 FROM activities a WHERE a.lead_id = l.id AND a.kind = 'replied') THEN 'replied'
                END AS stop
              FROM leads l JOIN companies c ON c.id = l.company_id;
            """;
        command.ExecuteNonQuery();
        command.CommandText = "SELECT COUNT(*) FROM leads";
        if ((long)command.ExecuteScalar()! == 0)
        {
            CrmDemoData.Seed(connection, transaction, DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime));
        }

        transaction.Commit();
        return builder.ToString();
    }
}
