using System.Globalization;

namespace TaskSystem.Storage.Sqlite;

/// <summary>
/// The volume that holds the database, measured once at open, and the two sizes the store derives from it: how large
/// the WAL may grow before a checkpoint, and how much space new tasks must leave free. That reserve is what lets a
/// node whose disk filled up keep running and finishing the tasks it accepted, take its WAL back, and start again:
/// SQLite needs room to grow the database before it can empty the WAL into it, and a disk filled to the last byte
/// leaves none. Only new tasks are refused (503); every other write uses the reserve.
/// </summary>
internal sealed class SqliteVolume
{
    /// <summary>The WAL budget never goes below this: a checkpoint every few commits costs more than it saves.</summary>
    public const long MinWalBudgetBytes = 128 * 1024;

    /// <summary>On large volumes: 10,000 pages of 4 KB, what this store used before budgets were sized for the volume.</summary>
    public const long MaxWalBudgetBytes = 40L * 1024 * 1024;

    /// <summary>When the volume cannot be measured (an unusual mount, say): SQLite's own default, 1,000 pages.</summary>
    private const long UnmeasuredWalBudgetBytes = 4L * 1024 * 1024;

    private readonly string _directory;

    public SqliteVolume(string databasePath)
    {
        _directory = Path.GetDirectoryName(databasePath)!;
        var total = Measure(volume => volume.TotalSize);
        WalBudgetBytes = total is { } size ? Math.Clamp(size / 64, MinWalBudgetBytes, MaxWalBudgetBytes) : UnmeasuredWalBudgetBytes;
        ReserveBytes = total is null ? 0 : 3 * WalBudgetBytes;
    }

    /// <summary>A 64th of the volume, between 128 KB and 40 MB.</summary>
    public long WalBudgetBytes { get; }

    /// <summary>
    /// Three WAL budgets (a full WAL, the growth its checkpoint may need, and as much again for the tasks already
    /// accepted to finish and the node to start): about 5% of a small volume, 120 MB of a large one. Zero when the
    /// volume cannot be measured.
    /// </summary>
    public long ReserveBytes { get; }

    /// <summary>
    /// Null when new tasks fit: the volume's free space plus the pages free inside the database file (reused before
    /// the file grows) leave the reserve. Otherwise why not, for the caller (HTTP 503). Costs one statfs call.
    /// </summary>
    public string? WhyNoRoomForNewTasks(long freePagesInFile, long pageSize)
    {
        if (ReserveBytes == 0 || Measure(volume => volume.AvailableFreeSpace) is not { } free)
        {
            return null;
        }

        var usable = free + (freePagesInFile * pageSize);
        return usable >= ReserveBytes
            ? null
            : string.Create(CultureInfo.InvariantCulture,
                $"The disk holding the database is nearly full: {usable / 1024} KB left, and {ReserveBytes / 1024} KB are kept free so that the tasks already accepted can run and finish. Free space on the volume, or shorten TaskSystem:Retention.");
    }

    private long? Measure(Func<DriveInfo, long> measure)
    {
        try
        {
            return measure(new DriveInfo(_directory));
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }
}
