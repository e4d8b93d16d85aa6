using System.Globalization;
using System.Text.Json;
using Agentry.Agents.Tools;
using Agentry.Tools;

namespace Agentry.Samples.OrderDesk;

/// Answers the customer on their help-desk ticket (the sample's stand-in for Zendesk's ticket
/// comments). The same call delivered twice posts one reply.
public sealed class ReplyToTicketTool(OrderDesk desk, TimeProvider clock) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("reply_to_ticket", "Posts a public reply to the customer on their help-desk ticket.", ToolSchema.ClosedObject("""
        "ticket_id": { "type": "string", "pattern": "^[0-9]{1,12}$", "description": "The ticket number, for example 35436." },
        "message": { "type": "string", "minLength": 1, "maxLength": 4000, "description": "The reply, written to the customer." }
        """, "ticket_id", "message"), SideEffects: true);

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var ticketId = arguments.GetProperty("ticket_id").GetString()!;
        await using var connection = await desk.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO ticket_replies (ticket_id, message, run_id, call_id, replied_at) VALUES ($ticket, $message, $run, $call, $at)
            ON CONFLICT (run_id, call_id) DO NOTHING
            """;
        command.Parameters.AddWithValue("$ticket", ticketId);
        command.Parameters.AddWithValue("$message", arguments.GetProperty("message").GetString()!);
        command.Parameters.AddWithValue("$run", invocation.RunId.ToString());
        command.Parameters.AddWithValue("$call", invocation.CallId);
        command.Parameters.AddWithValue("$at", clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
        await command.ExecuteNonQueryAsync(cancellationToken);
        return $"Replied on ticket {ticketId}.";
    }
}
