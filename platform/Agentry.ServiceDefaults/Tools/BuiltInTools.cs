namespace Agentry.ServiceDefaults.Tools;

/// The built-in tools' descriptors. The Planner offers them to the model, the agent loader checks
/// names against them, and the ToolExecutor binds each to its implementation by name.
public static class BuiltInTools
{
    public static readonly ToolDescriptor Calculator = new(
        "calculator",
        "Evaluates an arithmetic expression exactly (+ - * / % ^ and parentheses on integers and decimals) and returns the result.",
        """
        {
          "type": "object",
          "properties": {
            "expression": { "type": "string", "minLength": 1, "maxLength": 1000, "description": "The arithmetic expression, for example (17 * 23) + 4." }
          },
          "required": ["expression"],
          "additionalProperties": false
        }
        """);

    public static readonly ToolDescriptor CurrentTime = new(
        "current_time",
        "Returns the current date and time, in UTC or in an IANA time zone such as Europe/Paris.",
        """
        {
          "type": "object",
          "properties": {
            "timezone": { "type": "string", "description": "An IANA time zone id such as Asia/Tokyo; UTC when absent." }
          },
          "additionalProperties": false
        }
        """);

    public static readonly ToolDescriptor HttpGet = new(
        "http_get",
        "Fetches a web page or API response over HTTP GET from an allowed host and returns its status and body.",
        """
        {
          "type": "object",
          "properties": {
            "url": { "type": "string", "format": "uri", "pattern": "^https?://", "description": "The absolute http or https URL to fetch." }
          },
          "required": ["url"],
          "additionalProperties": false
        }
        """);

    public static readonly ToolDescriptor HttpPost = new(
        "http_post",
        "Posts (sends) a JSON body to a URL on an allowed host, for example to a webhook or an API, and returns the response status and body.",
        """
        {
          "type": "object",
          "properties": {
            "url": { "type": "string", "format": "uri", "pattern": "^https?://", "description": "The absolute http or https URL to post to." },
            "body": { "description": "The JSON value to send." }
          },
          "required": ["url", "body"],
          "additionalProperties": false
        }
        """,
        SideEffects: true);

    public static IReadOnlyList<ToolDescriptor> All { get; } = [Calculator, CurrentTime, HttpGet, HttpPost];
}
