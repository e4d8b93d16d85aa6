using Agentry.Agents;
using Agentry.Memory;
using Agentry.Samples;
using Agentry.ServiceDefaults;
using Agentry.Tools;

var builder = WebApplication.CreateBuilder(args);
builder.AddAgentryDefaults();
builder.Services.AddAgentryTools(builder.Configuration).AddSampleTools(builder.Configuration);
builder.Services.AddMemory(builder.Configuration);
builder.Services.AddAgentryBus(builder.Configuration, bus => bus.AddMemoryConsumers());

var app = builder.Build();
app.MapAgentryEndpoints();
app.Run();
