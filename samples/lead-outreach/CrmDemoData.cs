using Microsoft.Data.Sqlite;

namespace Agentry.Samples.LeadOutreach;

/// The demo CRM, all of it invented (example.com addresses): Relay, the seller, offers on-call
/// scheduling and incident response. Three new leads, one of them on the email service's suppression
/// list since an old campaign; one lead mailed yesterday whose follow-up is due in two days. Every
/// date is counted from the day the database is created, so the demo is never stale.
internal static class CrmDemoData
{
    private static readonly (string Id, string Name, string Domain, string Industry, int Employees)[] Companies =
    [
        ("northwind", "Northwind Analytics", "northwind.example.com", "Demand forecasting software", 420),
        ("contoso-freight", "Contoso Freight", "contoso-freight.example.com", "Road freight and logistics", 3100),
        ("fabrikam-health", "Fabrikam Health", "fabrikam-health.example.com", "Remote patient monitoring", 160),
        ("tailspin", "Tailspin Retail", "tailspin.example.com", "Retail (300 stores and a web shop)", 5200),
    ];

    private static readonly (string Id, string Company, string Kind, string Title, string Path, int DaysAgo, string Body)[] Pages =
    [
        ("P-NW-1", "northwind", "news", "Northwind Analytics opens a Lisbon engineering hub", "/news/lisbon-hub", 10,
            "Northwind Analytics will hire 40 data engineers in Lisbon by mid-2027. The hub runs the forecasting platform around the clock, handing over to the Chicago team every evening."),
        ("P-NW-2", "northwind", "about", "About Northwind Analytics", "/about", 200,
            "Northwind Analytics forecasts demand for 120 grocery chains; its platform retrains 9,000 models every night before the stores open."),
        ("P-NW-3", "northwind", "careers", "Site Reliability Engineer (Lisbon)", "/careers/sre-lisbon", 6,
            "Join the on-call rotation shared between Lisbon and Chicago for the nightly model retraining."),
        ("P-CF-1", "contoso-freight", "news", "Contoso Freight restores shipment tracking after a three-day outage", "/press/tracking-restored", 40,
            "Shipment tracking was down for three days in October after a telematics provider failed; Contoso Freight says it is reviewing how incidents are escalated across its 14 countries."),
        ("P-CF-2", "contoso-freight", "about", "About Contoso Freight", "/about", 300,
            "Contoso Freight runs 2,300 trucks across 14 European countries, with dispatch centres in Rotterdam and Lyon."),
        ("P-FH-1", "fabrikam-health", "news", "Fabrikam Health raises a 28 million dollar Series B", "/news/series-b", 20,
            "The round funds a 24/7 clinical operations team for the remote monitoring of 50,000 patients."),
        ("P-TR-1", "tailspin", "news", "Tailspin Retail's checkout was down for 40 minutes on Black Friday", "/news/black-friday", 9,
            "A payment-gateway timeout stopped the web shop's checkout for 40 minutes at the peak of Black Friday."),
    ];

    private static readonly (string Id, string Name, string Title, string Company, string Owner, string Email)[] Leads =
    [
        ("L-201", "Ana Ruiz", "Head of Data Engineering", "northwind", "sam.patel@relay.example.com", "ana.ruiz@northwind.example.com"),
        ("L-202", "Ben Okafor", "VP Operations", "contoso-freight", "jo.martin@relay.example.com", "ben.okafor@contoso-freight.example.com"),
        ("L-203", "Dana Whitfield", "CTO", "fabrikam-health", "sam.patel@relay.example.com", "dana.whitfield@fabrikam-health.example.com"),
        ("L-204", "Chris Lee", "Platform Engineering Lead", "tailspin", "jo.martin@relay.example.com", "chris.lee@tailspin.example.com"),
    ];

    public static void Seed(SqliteConnection connection, SqliteTransaction transaction, DateOnly today)
    {
        string Ago(int days) => Crm.Day(today.AddDays(-days));
        foreach (var (id, name, domain, industry, employees) in Companies)
        {
            Insert(connection, transaction, "INSERT INTO companies VALUES ($1, $2, $3, $4, $5)", id, name, domain, industry, employees);
        }

        foreach (var (id, company, kind, title, path, daysAgo, body) in Pages)
        {
            var domain = Companies.Single(c => c.Id == company).Domain;
            Insert(connection, transaction, "INSERT INTO company_pages VALUES ($1, $2, $3, $4, $5, $6, $7)", id, company, kind, title, $"https://{domain}{path}", Ago(daysAgo), body);
        }

        foreach (var (id, name, title, company, owner, email) in Leads)
        {
            Insert(connection, transaction, "INSERT INTO leads (id, name, email, title, company_id, owner, stage, created_on) VALUES ($1, $2, $3, $4, $5, $6, 'new', $7)",
                id, name, email, title, company, owner, Ago(1));
        }

        Insert(connection, transaction, "INSERT INTO suppressions VALUES ($1, $2, $3)", "dana.whitfield@fabrikam-health.example.com", "unsubscribed from the spring webinar campaign", Ago(65));

        // Chris Lee was mailed yesterday; the follow-up is due in two days.
        const string subject = "Black Friday's 40 minutes";
        Insert(connection, transaction, "UPDATE leads SET stage = 'in_sequence', step = 1, next_touch_on = $1 WHERE id = 'L-204'", Crm.Day(today.AddDays(2)));
        Insert(connection, transaction, "INSERT INTO outbox (lead_id, step, to_address, subject, body, sources, run_id, call_id, queued_at) VALUES ('L-204', 1, $1, $2, $3, '[\"P-TR-1\"]', 'demo', 'demo', $4)",
            "chris.lee@tailspin.example.com", subject,
            "Hi Chris, I read that Tailspin's checkout stopped for 40 minutes at the peak of Black Friday. Relay pages the right engineer within a minute and keeps the incident timeline for the review. Worth a 20-minute look? Sam",
            $"{Ago(1)}T08:31:00Z");
        Insert(connection, transaction, "INSERT INTO activities (lead_id, kind, step, at, detail) VALUES ('L-204', 'email_sent', 1, $1, $2)", $"{Ago(1)}T08:31:00Z", subject);
    }

    private static void Insert(SqliteConnection connection, SqliteTransaction transaction, string sql, params object[] values)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters.AddWithValue($"${i + 1}", values[i]);
        }

        command.ExecuteNonQuery();
    }
}
