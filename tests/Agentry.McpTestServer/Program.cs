using Agentry.McpTestServer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// An MCP server over stdio for the tests: stdout carries the protocol, so logs go nowhere.
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.ClearProviders();
builder.Services.AddMcpServer().WithStdioServerTransport().WithTools([typeof(TestTools)]);
await builder.Build().RunAsync();
