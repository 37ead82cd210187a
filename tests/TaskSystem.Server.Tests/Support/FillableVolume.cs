using System.Diagnostics;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TaskSystem.Storage;
using TaskSystem.Storage.Sqlite;
using TaskSystem.Tests.Support;

namespace TaskSystem.Server.Tests.Support;

/// <summary>
/// Where a disk-full test keeps its SQLite database: somewhere it can fill and free. As root, a small tmpfs volume of
/// its own (a real full disk: the kernel refuses writes with ENOSPC); otherwise, and on request, an ordinary folder
/// with SQLite's own page limit (SQLite refuses to grow the file with SQLITE_FULL), set on the store's connections.
/// </summary>
public abstract class FillableVolume : IDisposable
{
    /// <summary>A tmpfs volume when the process may mount one, else the page limit; <paramref name="why"/> says which and why.</summary>
    public static FillableVolume SmallestReal(out string why)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            why = "not root: a tmpfs volume cannot be mounted, so SQLite's page limit stands for the full disk";
            return new PageLimitVolume();
        }

        if (TmpfsVolume.TryMount(out var volume, out var error))
        {
            why = "root: a real 8 MB tmpfs volume";
            return volume;
        }

        why = $"root, but mounting tmpfs failed ({error}): SQLite's page limit stands for the full disk";
        return new PageLimitVolume();
    }

    public abstract string DatabasePath { get; }

    public string ConnectionString => $"Data Source={DatabasePath}";

    /// <summary>Points <paramref name="factory"/> at this volume (and, for the page limit, gives its store the limit).</summary>
    public virtual void Use(ApiFactory factory) => factory.Settings["TaskSystem:ConnectionString"] = ConnectionString;

    /// <summary>Leaves room for a few hundred KB of tasks, no more.</summary>
    public abstract Task LeaveLittleRoomAsync(IServiceProvider services);

    /// <summary>Another process takes every byte left.</summary>
    public abstract Task FillCompletelyAsync(IServiceProvider services);

    /// <summary>Gives back everything this test took.</summary>
    public abstract Task FreeAsync(IServiceProvider? services);

    /// <summary>Before a start: nearly no room is left (a few tens of KB at most).</summary>
    public abstract Task LeaveNearlyNoRoomAsync();

    public abstract void Dispose();
}

/// <summary>A real 8 MB volume (tmpfs), filled by files of the test's own.</summary>
public sealed class TmpfsVolume : FillableVolume
{
    private readonly TempDirectory _mountPoint;
    private int _fillers;

    private TmpfsVolume(TempDirectory mountPoint) => _mountPoint = mountPoint;

    public override string DatabasePath => _mountPoint.File("tasks.db");

    public long FreeBytes => new DriveInfo(_mountPoint.Path).AvailableFreeSpace;

    public static bool TryMount(out TmpfsVolume volume, out string error)
    {
        var mountPoint = new TempDirectory();
        var (exitCode, output) = Run("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mountPoint.Path);
        if (exitCode != 0)
        {
            mountPoint.Dispose();
            (volume, error) = (null!, output);
            return false;
        }

        (volume, error) = (new TmpfsVolume(mountPoint), "");
        return true;
    }

    public override Task LeaveLittleRoomAsync(IServiceProvider services)
    {
        Fill(Math.Max(0, FreeBytes - (2 * 1024 * 1024)));
        return Task.CompletedTask;
    }

    public override Task FillCompletelyAsync(IServiceProvider services)
    {
        Fill(long.MaxValue);
        return Task.CompletedTask;
    }

    public override Task FreeAsync(IServiceProvider? services)
    {
        foreach (var filler in Directory.GetFiles(_mountPoint.Path, "filler-*"))
        {
            File.Delete(filler);
        }

        return Task.CompletedTask;
    }

    public override Task LeaveNearlyNoRoomAsync()
    {
        var last = Fill(long.MaxValue);
        using (var stream = new FileStream(last, FileMode.Open, FileAccess.Write))
        {
            stream.SetLength(Math.Max(0, stream.Length - (48 * 1024)));
        }

        return Task.CompletedTask;
    }

    /// <summary>Writes a new file of up to <paramref name="bytes"/> (stopping when the disk is full); returns its path.</summary>
    private string Fill(long bytes)
    {
        var path = _mountPoint.File($"filler-{_fillers++}");
        var chunk = new byte[4096];
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1);
        try
        {
            for (long written = 0; written < bytes; written += chunk.Length)
            {
                stream.Write(chunk, 0, (int)Math.Min(chunk.Length, bytes - written));
            }
        }
        catch (IOException)
        {
            // No space left on the device: full, as asked.
        }

        return path;
    }

    public override void Dispose()
    {
        // Lazy: a file the server held open a moment ago must not keep the volume mounted.
        Run("umount", "-l", _mountPoint.Path);
        _mountPoint.Dispose();
    }

    private static (int ExitCode, string Output) Run(string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var output = process.StandardError.ReadToEnd() + process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Trim());
    }
}

/// <summary>
/// An ordinary folder where SQLite's page limit (<c>PRAGMA max_page_count</c>, per connection) stands for the size of
/// the disk: the server's store gets a hook that sets it on every writer connection it opens.
/// </summary>
public sealed class PageLimitVolume : FillableVolume
{
    private const long NoLimit = 4_294_967_294;
    private readonly TempDirectory _directory = new();
    private long _limit = NoLimit;

    public override string DatabasePath => _directory.File("tasks.db");

    public override void Use(ApiFactory factory)
    {
        base.Use(factory);
        var previous = factory.Configure;
        factory.Configure = builder =>
        {
            previous?.Invoke(builder);
            builder.ConfigureTestServices(services => services.AddSingleton<ITaskStore>(provider =>
                new SqliteTaskStore(ConnectionString, provider.GetRequiredService<ILogger<SqliteTaskStore>>())
                {
                    WriteHealth = provider.GetRequiredService<WriteHealth>(),
                    ConfigureWriterConnection = connection => SetLimit(connection, Interlocked.Read(ref _limit)),
                }));
        };
    }

    public override async Task LeaveLittleRoomAsync(IServiceProvider services) =>
        await SetLimitAsync(services, await PageCountAsync(services) + 100);

    public override Task FillCompletelyAsync(IServiceProvider services) => SetLimitAsync(services, 1);

    public override Task FreeAsync(IServiceProvider? services) => services is null ? Task.CompletedTask : SetLimitAsync(services, NoLimit);

    /// <summary>Below the file's size, SQLite sets the limit to the size: no page can be added.</summary>
    public override Task LeaveNearlyNoRoomAsync()
    {
        Interlocked.Exchange(ref _limit, 1);
        return Task.CompletedTask;
    }

    public override void Dispose() => _directory.Dispose();

    private async Task SetLimitAsync(IServiceProvider services, long pages)
    {
        Interlocked.Exchange(ref _limit, pages);

        // It shares a transaction with the server's own writes, which SQLite may roll back as a whole when one of
        // them finds the database full: then it is answered "unavailable" like them, and sent again.
        await Eventually.Until(
            async () =>
            {
                try
                {
                    await Store(services).WriteAsync(context => SetLimit(context.Connection, pages), CancellationToken.None, singleStatement: true);
                    return true;
                }
                catch (TaskStoreUnavailableException)
                {
                    return false;
                }
            },
            done => done,
            because: $"the page limit to be set to {pages}");
    }

    private static Task<long> PageCountAsync(IServiceProvider services) =>
        Store(services).WriteAsync(context => (long)context.Command("PRAGMA page_count").ExecuteScalar()!, CancellationToken.None, singleStatement: true);

    private static SqliteTaskStore Store(IServiceProvider services) => (SqliteTaskStore)services.GetRequiredService<ITaskStore>();

    private static long SetLimit(SqliteConnection connection, long pages)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA max_page_count = {pages}";
        return (long)command.ExecuteScalar()!;
    }
}
