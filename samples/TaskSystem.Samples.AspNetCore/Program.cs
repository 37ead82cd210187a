using TaskSystem.Samples.AspNetCore;

var app = SampleApplication.Create(args);
await app.RunAsync();
