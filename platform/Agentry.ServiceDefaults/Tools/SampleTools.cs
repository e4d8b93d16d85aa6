namespace Agentry.ServiceDefaults.Tools;

/// The order desk of the customer-support sample (agents/customer-support.yaml, docs/approvals.md):
/// a small shop database in SQLite (Tools:Orders), with a read-only lookup and a refund that
/// changes it. Real tools, so the sample's approval guards a real side effect; a deployment points
/// them at its own file, or simply lists no agent that uses them.
public static class SampleTools
{
    public static readonly ToolDescriptor LookupOrder = new(
        "lookup_order",
        "Looks up a customer order by its number and returns the customer, the item, the amount, the status and any refund.",
        """
        {
          "type": "object",
          "properties": {
            "order_id": { "type": "string", "pattern": "^[0-9]{1,12}$", "description": "The order number, for example 1042." }
          },
          "required": ["order_id"],
          "additionalProperties": false
        }
        """);

    public static readonly ToolDescriptor RefundOrder = new(
        "refund_order",
        "Refunds a customer order in full to the original payment and marks it refunded. It moves money: use it only when the refund is justified.",
        """
        {
          "type": "object",
          "properties": {
            "order_id": { "type": "string", "pattern": "^[0-9]{1,12}$", "description": "The order number, for example 1042." },
            "reason": { "type": "string", "maxLength": 500, "description": "Why the order is refunded, in the customer's words." }
          },
          "required": ["order_id"],
          "additionalProperties": false
        }
        """,
        SideEffects: true);

    public static IReadOnlyList<ToolDescriptor> Orders { get; } = [LookupOrder, RefundOrder];
}
