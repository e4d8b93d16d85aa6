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
var run = new Command("run", "Run an agent on a goal with every service in this process, showing each step as it happens. Exits 0 when the run completed, 1 when it failed, escalated or was cancelled, 2 on bad input.")
{
    goalArgument, agentOption, inputOption, busOption, timeoutOption, userOption,
};
run.SetAction((parse, cancellationToken) => Commands.RunAsync(
    new RunOptions(parse.GetValue(goalArgument) ?? "", parse.GetValue(agentOption)!, parse.GetValue(agentsOption), parse.GetValue(inputOption), parse.GetValue(verboseOption),
        Bus: parse.GetValue(busOption), Timeout: parse.GetValue(timeoutOption), User: parse.GetValue(userOption)),
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

var root = new RootCommand("Agentry: a runtime for AI agents. Runs an agent through trigger, context, plan, act, evaluate and deliver.")
{
    agentsOption, verboseOption, run, agents, serve, memory,
};
return await root.Parse(args).InvokeAsync();
