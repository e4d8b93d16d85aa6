using Agentry.Gateway;
using Agentry.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddAgentryDefaults();
builder.Services.AddAgentryBus(builder.Configuration, bus => bus.AddGatewayClients());

var app = builder.Build();
app.MapAgentryEndpoints();
app.MapRunsApi();
app.MapMemoriesApi();
app.Run();
