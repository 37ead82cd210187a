namespace TaskSystem.Samples.AspNetCore;

/// <summary>The app's entry point; the app itself is built by <see cref="SampleApplication"/>, which tests host too.</summary>
public static class Program
{
    public static async Task Main(string[] args)
    {
        await using var app = SampleApplication.Create(args);
        await app.RunAsync();
    }
}
