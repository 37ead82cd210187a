using Microsoft.Extensions.Logging;
using TaskSystem.Diagnostics;
using TaskSystem.Handlers;
using TaskSystem.Storage;

namespace TaskSystem.Engine;

/// <summary>
/// Turns one attempt's progress reports into store writes, at most one per <see cref="MinInterval"/>: a report that
/// comes sooner replaces the waiting one and is written when the interval is up, so the last report is always kept
/// however chatty the handler is. Each write is fenced by the attempt's holder and claim, so a report of an attempt
/// that was stopped, rescued or finished changes nothing. A failed write never fails the task: it is logged, and the
/// next report tries again. <see cref="FlushAsync"/> writes the waiting report when the handler returns, before the
/// outcome, while the attempt still holds the task.
/// </summary>
internal sealed class TaskProgressReporter : ITaskProgressSink
{
    /// <summary>Writes for one task come at least this far apart.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(1);

    private readonly Func<TaskProgressSetParams, CancellationToken, Task<bool>> _write;
    private readonly long _id;
    private readonly string _holder;
    private readonly long _claimId;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();

    // All guarded by _gate.
    private Report? _pending;
    private long _lastWrite;
    private bool _written;
    private bool _busy;
    private bool _closed;
    private ITimer? _timer;
    private Task _inflight = Task.CompletedTask;

    public TaskProgressReporter(
        Func<TaskProgressSetParams, CancellationToken, Task<bool>> write, long id, string holder, long claimId, TimeProvider time, ILogger logger)
    {
        _write = write;
        _id = id;
        _holder = holder;
        _claimId = claimId;
        _time = time;
        _logger = logger;
    }

    /// <summary>The claim whose attempt reports here.</summary>
    public long ClaimId => _claimId;

    /// <summary>Set once a fenced write found the task no longer held by this attempt: later reports are dropped.</summary>
    public bool Lost { get; private set; }

    /// <summary>
    /// Records a report. Returns the write when it starts at once (the first report, or one after a quiet interval),
    /// else at once: the report waits for the interval and a later one may replace it.
    /// </summary>
    public ValueTask ReportAsync(double percent, string? message)
    {
        var report = new Report(percent, message, _time.GetUtcNow());
        lock (_gate)
        {
            if (_closed || Lost)
            {
                return ValueTask.CompletedTask;
            }

            _pending = report;
            if (_busy || _timer is not null)
            {
                // The write under way, or the one the timer will start, takes this report.
                return ValueTask.CompletedTask;
            }

            var wait = _written ? MinInterval - _time.GetElapsedTime(_lastWrite) : TimeSpan.Zero;
            if (wait > TimeSpan.Zero)
            {
                _timer = _time.CreateTimer(static state => ((TaskProgressReporter)state!).OnTimer(), this, wait, Timeout.InfiniteTimeSpan);
                return ValueTask.CompletedTask;
            }

            return new ValueTask(StartWrite());
        }
    }

    /// <summary>Ends reporting for the attempt: writes the waiting report, if any, after the write under way. Never throws.</summary>
    public async Task FlushAsync()
    {
        Task inflight;
        lock (_gate)
        {
            _closed = true;
            _timer?.Dispose();
            _timer = null;
            inflight = _inflight;
        }

        await inflight.ConfigureAwait(false);
        Report? last;
        lock (_gate)
        {
            last = Lost ? null : _pending;
            _pending = null;
        }

        if (last is not null)
        {
            await WriteAsync(last).ConfigureAwait(false);
        }
    }

    private void OnTimer()
    {
        lock (_gate)
        {
            _timer?.Dispose();
            _timer = null;
            if (!_closed && !_busy && _pending is not null)
            {
                _ = StartWrite();
            }
        }
    }

    /// <summary>Takes the waiting report and writes it on the thread pool (never inline, under the lock). Called under the lock.</summary>
    private Task StartWrite()
    {
        var report = _pending!;
        _pending = null;
        _busy = true;
        _inflight = Task.Run(() => WriteThenScheduleAsync(report));
        return _inflight;
    }

    private async Task WriteThenScheduleAsync(Report report)
    {
        await WriteAsync(report).ConfigureAwait(false);
        lock (_gate)
        {
            _busy = false;
            _written = true;
            _lastWrite = _time.GetTimestamp();
            if (!_closed && !Lost && _pending is not null && _timer is null)
            {
                _timer = _time.CreateTimer(static state => ((TaskProgressReporter)state!).OnTimer(), this, MinInterval, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private async Task WriteAsync(Report report)
    {
        try
        {
            var applied = await _write(new TaskProgressSetParams(_id, _holder, _claimId, report.Percent, report.Message, report.At), CancellationToken.None)
                .ConfigureAwait(false);
            if (!applied)
            {
                lock (_gate)
                {
                    Lost = true;
                }
            }
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            Log.ProgressWriteFailed(_logger, _id, exception);
        }
    }

    private sealed record Report(double Percent, string? Message, DateTimeOffset At);
}
