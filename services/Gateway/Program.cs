using Agentry.Agents;
using Agentry.Gateway;
using Agentry.Samples;
using Agentry.ServiceDefaults;
using Agentry.Tools;

var builder = WebApplication.CreateBuilder(args);
builder.AddAgentryDefaults();
builder.Services.AddAgentryTools(builder.Configuration).AddSampleTools(builder.Configuration);
builder.Services.AddGateway(builder.Configuration);
builder.Services.AddAgentryBus(builder.Configuration, bus => bus.AddGatewayClients());

var app = builder.Build();
app.MapAgentryEndpoints();
app.MapGateway();
app.Run();
