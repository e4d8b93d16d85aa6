using System.CommandLine;
using Agentry.Cli;

var agentsOption = new Option<string?>("--agents")
{
    Description = "The folder of agent definitions (default: ./agents, or Agents__Path).",
    Recursive = true,
};
var verboseOption = new Option<bool>("--verbose", "-v")
{
    Description = "Show the services' logs.",
    Recursive = true,
};

var goalArgument = new Argument<string>("goal") { Description = "What the agent should achieve, in words." };
var agentOption = new Option<string>("--agent", "-a")
{
    Description = "The agent to run (see `agentry agents`).",
    DefaultValueFactory = _ => "assistant",
};
var inputOption = new Option<string?>("--input", "-i") { Description = "Structured input for the run, as a JSON value." };
var busOption = new Option<string?>("--bus")
{
    Description = "The RabbitMQ of a running deployment (amqp://user:password@host:5672/vhost): submit the goal there and follow the run, hosting nothing here. Also ConnectionStrings__rabbitmq.",
};
var timeoutOption = new Option<TimeSpan?>("--timeout") { Description = "Stop waiting for the run after this long (hh:mm:ss); default: the agent's deadline plus 30 s, or 10 minutes with --bus." };
var userOption = new Option<string?>("--user", "-u") { Description = "The user the run works for: agents with long-term memory remember facts and preferences per user (see `agentry memory`)." };
var approveOption = new Option<bool>("--approve") { Description = "Approve every call that needs approval, without asking (for scripts)." };
var denyOption = new Option<bool>("--deny") { Description = "Deny every call that needs approval, without asking; the agent is told (see --comment)." };
var runCommentOption = new Option<string?>("--comment") { Description = "The comment recorded with --approve or --deny decisions." };
var byOption = new Option<string>("--by")
{
    Description = "Who decides: recorded with each decision (default: your user name).",
    DefaultValueFactory = _ => Environment.UserName,
};
var run = new Command("run", "Run an agent on a goal with every service in this process, showing each step as it happens. A call that needs approval is put to you at the terminal (y / n COMMENT), or decided by --approve or --deny. Exits 0 when the run completed, 1 when it failed, escalated or was cancelled, 2 on bad input.")
{
    goalArgument, agentOption, inputOption, busOption, timeoutOption, userOption, approveOption, denyOption, runCommentOption, byOption,
};
run.Validators.Add(result =>
{
    if (result.GetValue(approveOption) && result.GetValue(denyOption))
    {
        result.AddError("--approve and --deny cannot both be given.");
    }
});
run.SetAction((parse, cancellationToken) => Commands.RunAsync(
    new RunOptions(parse.GetValue(goalArgument) ?? "", parse.GetValue(agentOption)!, parse.GetValue(agentsOption), parse.GetValue(inputOption), parse.GetValue(verboseOption),
        Bus: parse.GetValue(busOption), Timeout: parse.GetValue(timeoutOption), User: parse.GetValue(userOption),
        Approvals: new ApprovalChoice(
            parse.GetValue(approveOption) ? ApprovalMode.Approve : parse.GetValue(denyOption) ? ApprovalMode.Deny : ApprovalMode.Ask,
            parse.GetValue(byOption)!, parse.GetValue(runCommentOption))),
    Console.Out,
    Console.Error,
    cancellationToken));

var agents = new Command("agents", "List the agents defined in the agents folder, with their tools and limits. Exits 2 when a definition is invalid, naming the file and line.");
agents.SetAction((parse, _) => Commands.ListAgentsAsync(parse.GetValue(agentsOption), Console.Out, Console.Error));

var urlsOption = new Option<string>("--urls")
{
    Description = "Where the HTTP API listens.",
    DefaultValueFactory = _ => "http://127.0.0.1:5080",
};
var serve = new Command("serve", "Host every service and the Gateway's HTTP API (POST /runs, GET /runs/{id}) in this process until stopped.")
{
    urlsOption,
};
serve.SetAction((parse, cancellationToken) => Commands.ServeAsync(parse.GetValue(agentsOption), parse.GetValue(urlsOption)!, parse.GetValue(verboseOption), Console.Error, cancellationToken));

var memory = MemoryCommands.Create(agentsOption, Console.Out, Console.Error);

var gatewayOption = new Option<string>("--gateway")
{
    Description = "The Gateway of a running deployment, for approvals, resume and close (default: AGENTRY_GATEWAY, or http://127.0.0.1:5080 as `agentry serve` listens).",
    DefaultValueFactory = _ => Environment.GetEnvironmentVariable("AGENTRY_GATEWAY") is { Length: > 0 } gateway ? gateway : ApprovalCommands.DefaultGateway,
};
var tenantOption = new Option<string?>("--tenant") { Description = "The tenant whose calls to list (default: the default tenant)." };
var approvals = new Command("approvals", "List the calls waiting for a person's approval on a running deployment.") { gatewayOption, tenantOption };
approvals.SetAction((parse, cancellationToken) => ApprovalCommands.ListAsync(parse.GetValue(gatewayOption)!, parse.GetValue(tenantOption), Console.Out, Console.Error, cancellationToken));

var runIdArgument = new Argument<string>("run") { Description = "The run id, as `agentry run` prints it or `agentry approvals` lists it." };
var callIdArgument = new Argument<string>("call") { Description = "The call id, as `agentry approvals` lists it." };
var commentOption = new Option<string?>("--comment", "-m") { Description = "Why: recorded with the decision; a denial's comment is shown to the agent." };
var approve = new Command("approve", "Approve a call waiting for approval: it runs. Exits 2 when the run or call is unknown or already decided.")
{
    runIdArgument, callIdArgument, commentOption, byOption, gatewayOption,
};
approve.SetAction((parse, cancellationToken) => ApprovalCommands.DecideAsync(parse.GetValue(gatewayOption)!, parse.GetValue(runIdArgument)!, parse.GetValue(callIdArgument)!, approved: true,
    parse.GetValue(byOption)!, parse.GetValue(commentOption), Console.Out, Console.Error, cancellationToken));
var deny = new Command("deny", "Deny a call waiting for approval: the agent is told it was denied, by whom and why (--comment is required).")
{
    runIdArgument, callIdArgument, commentOption, byOption, gatewayOption,
};
deny.SetAction((parse, cancellationToken) => ApprovalCommands.DecideAsync(parse.GetValue(gatewayOption)!, parse.GetValue(runIdArgument)!, parse.GetValue(callIdArgument)!, approved: false,
    parse.GetValue(byOption)!, parse.GetValue(commentOption), Console.Out, Console.Error, cancellationToken));

var guidanceArgument = new Argument<string>("guidance") { Description = "What the agent should do now, in words." };
var resume = new Command("resume", "Resume an escalated run with guidance: the agent plans its next step with it. Exits 0 when accepted, 1 when the run is not escalated or no Gateway answers, 2 on bad input.")
{
    runIdArgument, guidanceArgument, gatewayOption, byOption,
};
resume.SetAction((parse, cancellationToken) => Commands.DecideEscalationAsync(
    "resume", parse.GetValue(runIdArgument)!, parse.GetValue(guidanceArgument) ?? "", parse.GetValue(byOption), parse.GetValue(gatewayOption)!, Console.Out, Console.Error, cancellationToken));
var resolutionArgument = new Argument<string>("resolution") { Description = "What was done or decided; it becomes the run's answer." };
var close = new Command("close", "Close an escalated run with a resolution: it ends Completed, the resolution as its answer. Exits as resume does.")
{
    runIdArgument, resolutionArgument, gatewayOption, byOption,
};
close.SetAction((parse, cancellationToken) => Commands.DecideEscalationAsync(
    "close", parse.GetValue(runIdArgument)!, parse.GetValue(resolutionArgument) ?? "", parse.GetValue(byOption), parse.GetValue(gatewayOption)!, Console.Out, Console.Error, cancellationToken));

var kbTenantOption = new Option<string>("--tenant", "-t")
{
    Description = "The tenant whose knowledge base this is.",
    DefaultValueFactory = _ => Agentry.ServiceDefaults.Extensions.DefaultTenant,
    Recursive = true,
};
var collectionArgument = new Argument<string>("collection") { Description = "The collection's name (lower-case letters, digits, '-', '_')." };
var pathsArgument = new Argument<string[]>("paths") { Description = "Files or folders (searched recursively) of .md, .markdown and .txt files.", Arity = ArgumentArity.OneOrMore };
var ingest = new Command("ingest", "Cut markdown and text files into overlapping chunks, embed them and store them in a collection (a file ingested again replaces its chunks). Exits 2 on a missing path or bad input.")
{
    collectionArgument, pathsArgument,
};
ingest.SetAction((parse, cancellationToken) => KnowledgeCommands.IngestAsync(
    parse.GetValue(collectionArgument)!, parse.GetValue(pathsArgument)!, parse.GetValue(kbTenantOption)!, Console.Out, Console.Error, cancellationToken));

var queryArgument = new Argument<string>("query") { Description = "What to look for, in words." };
var limitOption = new Option<int>("--limit", "-n") { Description = "How many passages.", DefaultValueFactory = _ => 5 };
var search = new Command("search", "Search a collection (BM25 and embeddings, fused) and print the best passages with their source and passage number.")
{
    collectionArgument, queryArgument, limitOption,
};
search.SetAction((parse, cancellationToken) => KnowledgeCommands.SearchAsync(
    parse.GetValue(collectionArgument)!, parse.GetValue(queryArgument)!, parse.GetValue(limitOption), parse.GetValue(kbTenantOption)!, Console.Out, Console.Error, cancellationToken));

var list = new Command("list", "List the tenant's knowledge collections with their chunk counts and embedder.");
list.SetAction((parse, cancellationToken) => KnowledgeCommands.ListAsync(parse.GetValue(kbTenantOption)!, Console.Out, Console.Error, cancellationToken));

var delete = new Command("delete", "Delete a collection and all its chunks.") { collectionArgument };
delete.SetAction((parse, cancellationToken) => KnowledgeCommands.DeleteAsync(parse.GetValue(collectionArgument)!, parse.GetValue(kbTenantOption)!, Console.Out, Console.Error, cancellationToken));

var kb = new Command("kb", "The knowledge base that agents search (search_knowledge, memory.knowledge): ingest, search, list, delete. Written where Memory keeps it: the embedded SQLite file, or MongoDB with ConnectionStrings__mongodb.")
{
    kbTenantOption, ingest, search, list, delete,
};

var root = new RootCommand("Agentry: a runtime for AI agents. Runs an agent through trigger, context, plan, act, evaluate and deliver.")
{
    agentsOption, verboseOption, run, agents, serve, kb, memory, approvals, approve, deny, resume, close,
};
return await root.Parse(args).InvokeAsync();
