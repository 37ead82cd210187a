using System.Runtime.InteropServices;

namespace TaskSystem.Benchmarks.Support;

/// <summary>Describes the machine the figures come from: they mean little without it.</summary>
internal static class Machine
{
    public static string Describe()
    {
        var cpu = ReadFirst("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString();
        var memory = ReadFirst("/proc/meminfo", "MemTotal") ?? "?";
        var drive = new DriveInfo(Path.GetTempPath());
        return string.Join(Environment.NewLine,
            $"machine: {Environment.ProcessorCount} cores ({cpu}), memory {memory}",
            $"disk: {drive.DriveFormat} at {drive.RootDirectory} ({drive.TotalSize / (1L << 30)} GiB, {drive.AvailableFreeSpace / (1L << 30)} GiB free), scratch in {Path.GetTempPath()}",
            $"os: {RuntimeInformation.OSDescription}, .NET {Environment.Version}");
    }

    private static string? ReadFirst(string file, string key)
    {
        if (!File.Exists(file))
        {
            return null;
        }

        var line = File.ReadLines(file).FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
        return line?.Split(':', 2)[1].Trim();
    }

    /// <summary>The 1, 5 and 15 minute load averages (other work on the machine moves wall-clock figures), or "?".</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    /// <summary>Peak resident memory of a process (VmHWM), in MiB, on Linux.</summary>
    public static double PeakRssMiB(int processId)
    {
        var line = File.ReadLines($"/proc/{processId}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return double.Parse(line.Split(':', 2)[1].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) / 1024;
    }
}
