namespace TaskSystem.TestSupport;

/// <summary>A fresh folder per test, deleted at the end: each test gets its own database.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tasksystem-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string SqliteConnectionString => $"Data Source={File("tasks.db")}";

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a process being torn down: the temp folder is cleaned by the OS.
        }
    }
}
