using TaskSystem.Benchmarks.Support;

namespace TaskSystem.Benchmarks;

/// <summary>What every workload shares: options, the report, scratch folders and, when asked for, a PostgreSQL server.</summary>
internal sealed class BenchContext(BenchOptions options, Report report) : IAsyncDisposable
{
    private readonly List<string> _folders = [];
    private PostgresServer? _postgres;

    public BenchOptions Options => options;

    public Report Report => report;

    /// <summary>A fresh folder, deleted at the end.</summary>
    public string NewFolder()
    {
        var path = Path.Combine(Path.GetTempPath(), "tasksystem-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        _folders.Add(path);
        return path;
    }

    /// <summary>A throwaway PostgreSQL server, started on first use; null when PostgreSQL cannot run here.</summary>
    public async Task<PostgresServer?> PostgresAsync()
    {
        if (_postgres is null && !PostgresServer.Unavailable)
        {
            _postgres = await PostgresServer.TryStartAsync();
        }

        return _postgres;
    }

    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }

        foreach (var folder in _folders)
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // Left for the OS to clean up.
            }
        }
    }
}

/// <summary>One benchmark: a name for --only, a description, and a run that adds figures to the report.</summary>
internal interface IWorkload
{
    string Name { get; }

    string Description { get; }

    Task RunAsync(BenchContext context);
}
