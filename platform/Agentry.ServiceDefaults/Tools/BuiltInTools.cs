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
        """) { ReachesHosts = true };

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
        SideEffects: true) { ReachesHosts = true };

    /// Declared with side effects because a POST has them; the ToolExecutor treats a GET as free of them.
    public static readonly ToolDescriptor HttpRequest = new(
        "http_request",
        "Sends an HTTP GET, or a POST with a JSON body, to a public web address and returns the response status and body. Private and local network addresses are refused.",
        """
        {
          "type": "object",
          "properties": {
            "method": { "enum": ["GET", "POST"], "description": "GET (the default) to read, POST to send the body." },
            "url": { "type": "string", "format": "uri", "pattern": "^https?://", "description": "The absolute http or https URL." },
            "body": { "description": "POST only: the JSON value to send." }
          },
          "required": ["url"],
          "additionalProperties": false
        }
        """,
        SideEffects: true) { SideEffectsDependOnArguments = true, ReachesHosts = true };

    public static readonly ToolDescriptor RunJavaScript = new(
        "run_javascript",
        "Runs a JavaScript (ECMAScript 2023) program in a sandbox with no network, files or host access, and returns the value of its last expression and anything it printed with console.log. Time, memory and recursion are limited.",
        """
        {
          "type": "object",
          "properties": {
            "code": { "type": "string", "minLength": 1, "maxLength": 20000, "description": "The program; the value of its last statement is the result, for example [1,2,3].map(x => x * x)." }
          },
          "required": ["code"],
          "additionalProperties": false
        }
        """);

    public static readonly ToolDescriptor SqlQuery = new(
        "sql_query",
        "Runs one read-only SQL query (a single SELECT or WITH statement, SQLite dialect) against the configured database, with named parameters such as :name, and returns the rows as JSON.",
        """
        {
          "type": "object",
          "properties": {
            "sql": { "type": "string", "minLength": 1, "maxLength": 10000, "description": "One SELECT or WITH statement; pass values as parameters (:name), not inside the text." },
            "parameters": { "type": "object", "additionalProperties": { "type": ["string", "number", "boolean", "null"] }, "description": "Values for the named parameters, by name without the colon." }
          },
          "required": ["sql"],
          "additionalProperties": false
        }
        """);

    public static readonly ToolDescriptor ReadFile = new(
        "read_file",
        "Reads a text file from this run's workspace, by a path relative to the workspace.",
        """
        {
          "type": "object",
          "properties": {
            "path": { "type": "string", "minLength": 1, "maxLength": 500, "description": "A relative path inside the workspace, for example notes/summary.txt." }
          },
          "required": ["path"],
          "additionalProperties": false
        }
        """);

    public static readonly ToolDescriptor WriteFile = new(
        "write_file",
        "Writes (creates or replaces) a text file in this run's workspace, by a path relative to the workspace.",
        """
        {
          "type": "object",
          "properties": {
            "path": { "type": "string", "minLength": 1, "maxLength": 500, "description": "A relative path inside the workspace, for example notes/summary.txt." },
            "content": { "type": "string", "description": "The whole text of the file." }
          },
          "required": ["path", "content"],
          "additionalProperties": false
        }
        """,
        SideEffects: true);

    /// Keeps a fact or preference about the run's user for later runs. Only for agents with
    /// memory.long_term and runs with a user; repeating a call adds nothing (the item's id is the call's).
    public static readonly ToolDescriptor Remember = new(
        "remember",
        "Remembers a durable fact about the user, or a preference of theirs, for later conversations (for example: prefers answers in French). Use it only for what the user said or clearly showed about themselves.",
        """
        {
          "type": "object",
          "properties": {
            "text": { "type": "string", "minLength": 1, "maxLength": 500, "description": "The fact or preference, as one short sentence about the user." },
            "kind": { "enum": ["fact", "preference"], "description": "fact: something true about the user; preference: how they like things done." }
          },
          "required": ["text", "kind"],
          "additionalProperties": false
        }
        """,
        SideEffects: true);

    /// Catalogued only when a search provider is configured (Tools:WebSearch:Provider): see ToolCatalog.For.
    public static readonly ToolDescriptor WebSearch = new(
        "web_search",
        "Searches the web and returns the top results (title, address and snippet).",
        """
        {
          "type": "object",
          "properties": {
            "query": { "type": "string", "minLength": 1, "maxLength": 400, "description": "What to search for." },
            "count": { "type": "integer", "minimum": 1, "maximum": 10, "description": "How many results, 5 when absent." }
          },
          "required": ["query"],
          "additionalProperties": false
        }
        """);

    /// Reads only the collections the agent lists under memory.knowledge.
    public static readonly ToolDescriptor SearchKnowledge = new(
        "search_knowledge",
        "Searches the agent's knowledge base (documents ingested with agentry kb ingest) and returns the passages that best answer the query, each with its source and passage number to cite.",
        """
        {
          "type": "object",
          "properties": {
            "query": { "type": "string", "minLength": 1, "maxLength": 1000, "description": "What to look for: a question or keywords." },
            "collection": { "type": "string", "minLength": 1, "maxLength": 64, "description": "One of the agent's knowledge collections; all of them when absent." },
            "limit": { "type": "integer", "minimum": 1, "maximum": 10, "description": "How many passages, 5 when absent." }
          },
          "required": ["query"],
          "additionalProperties": false
        }
        """);

    public static IReadOnlyList<ToolDescriptor> All { get; } = [Calculator, CurrentTime, HttpGet, HttpPost, HttpRequest, RunJavaScript, SqlQuery, ReadFile, WriteFile, Remember, SearchKnowledge];
}
