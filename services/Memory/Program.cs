using Agentry.Memory;
using Agentry.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddAgentryDefaults();
builder.Services.AddMemory(builder.Configuration);
builder.Services.AddAgentryBus(builder.Configuration, bus => bus.AddMemoryConsumers());

var app = builder.Build();
app.MapAgentryEndpoints();
app.Run();
