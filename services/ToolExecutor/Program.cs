using Agentry.Agents;
using Agentry.Samples;
using Agentry.ServiceDefaults;
using Agentry.Tools;
using Agentry.ToolExecutor;

var builder = WebApplication.CreateBuilder(args);
builder.AddAgentryDefaults();
builder.Services.AddAgentryTools(builder.Configuration).AddSampleTools(builder.Configuration);
builder.Services.AddToolExecutor(builder.Configuration);
builder.Services.AddAgentryBus(builder.Configuration, bus => bus.AddToolExecutorConsumers());

var app = builder.Build();
app.MapAgentryEndpoints();
app.Run();
