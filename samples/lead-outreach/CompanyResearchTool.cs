using System.Text.Json;
using Agentry.Agents.Tools;
using Agentry.Contracts;
using Agentry.Tools;

namespace Agentry.Samples.LeadOutreach;

/// The sample's stand-in for reading a company's public website: its profile and its pages (news,
/// about, careers), newest first, each with the id an email's `sources` names it by.
public sealed class CompanyResearchTool(Crm crm) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("company_research", "Returns a company's profile and its public pages (news, about, careers), newest first, each with an id (P-...) to name in an email's sources, its date, link and text.", ToolSchema.ClosedObject("""
        "company": { "type": "string", "minLength": 2, "maxLength": 200, "description": "The company's name or web domain, as crm_leads_due gives it, for example northwind.example.com." }
        """, "company"));

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var company = arguments.GetProperty("company").GetString()!.Trim();
        await using var connection = await crm.OpenAsync(cancellationToken);
        object? profile = null;
        string? id = null;
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT id, name, domain, industry, employees FROM companies WHERE lower(name) = lower($c) OR lower(domain) = lower($c) OR id = lower($c)";
            command.Parameters.AddWithValue("$c", company);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                id = reader.GetString(0);
                profile = new { name = reader.GetString(1), domain = reader.GetString(2), industry = reader.GetString(3), employees = reader.GetInt32(4) };
            }
        }

        if (id is null)
        {
            throw new ToolException(ToolErrorKind.Failed, $"No company named or at '{company}' is known: use the company or company_domain of a lead from crm_leads_due.", causedByCaller: true);
        }

        var pages = new List<object>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT id, kind, title, url, published_on, body FROM company_pages WHERE company_id = $id ORDER BY published_on DESC, id";
            command.Parameters.AddWithValue("$id", id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                pages.Add(new { id = reader.GetString(0), kind = reader.GetString(1), title = reader.GetString(2), url = reader.GetString(3), published_on = reader.GetString(4), text = reader.GetString(5) });
            }
        }

        return JsonSerializer.Serialize(new { company = profile, pages });
    }
}
