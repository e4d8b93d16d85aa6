using Agentry.ServiceDefaults;
using Agentry.ToolExecutor;

var builder = WebApplication.CreateBuilder(args);
builder.AddAgentryDefaults();
builder.Services.AddToolExecutor(builder.Configuration);
builder.Services.AddAgentryBus(builder.Configuration, bus => bus.AddToolExecutorConsumers());

var app = builder.Build();
app.MapAgentryEndpoints();
app.Run();
