using System.Diagnostics;
using System.Text;

namespace TaskSystem.Server.Tests.Support;

/// <summary>
/// One of the sample workers (samples/workers/python/worker.py, samples/workers/node/worker.js) as a child process,
/// run exactly as docs/workers.md shows, against a server the test started.
/// </summary>
public sealed class WorkerSample : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private WorkerSample(Process process) => _process = process;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts the sample of <paramref name="language"/> (<c>python</c> or <c>node</c>) as worker <paramref name="name"/>.</summary>
    public static WorkerSample Start(string language, Uri server, string name, double leaseSeconds = 30)
    {
        var (program, script) = language switch
        {
            "python" => ("python3", "samples/workers/python/worker.py"),
            "node" => ("node", "samples/workers/node/worker.js"),
            _ => throw new ArgumentOutOfRangeException(nameof(language), language, "python or node"),
        };
        RequireRuntime(program);
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryRoot(),
        };
        start.ArgumentList.Add(script);
        start.Environment["TASKSYSTEM_URL"] = server.ToString();
        start.Environment["WORKER_NAME"] = name;
        start.Environment["LEASE_SECONDS"] = leaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var process = new Process { StartInfo = start };
        var worker = new WorkerSample(process);
        process.OutputDataReceived += (_, e) => worker.Append(e.Data);
        process.ErrorDataReceived += (_, e) => worker.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>SIGKILL: the worker dies mid-task, with no chance to report or release anything.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public bool HasExited => _process.HasExited;

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    /// <summary>The samples are tested where they are, as a reader runs them: from the repository's root.</summary>
    public static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "TaskSystem.slnx")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No TaskSystem.slnx above {AppContext.BaseDirectory}: the worker samples are run from the repository.");
    }

    /// <summary>Fails with a message that says what to install, rather than skipping.</summary>
    private static void RequireRuntime(string program)
    {
        try
        {
            using var probe = Process.Start(new ProcessStartInfo(program, "--version") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;

            // Generous: a version manager's shim may be slow to answer on a busy machine.
            if (!probe.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                probe.Kill(entireProcessTree: true);
                Assert.Fail($"`{program} --version` did not answer within 60 s.");
            }

            if (probe.ExitCode == 0)
            {
                return;
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Not installed: said below.
        }

        Assert.Fail(program == "node"
            ? "The Node.js worker sample needs Node.js 18 or later on the PATH (node); install it to run these tests."
            : "The Python worker sample needs Python 3 on the PATH (python3); install it to run these tests.");
    }
}
