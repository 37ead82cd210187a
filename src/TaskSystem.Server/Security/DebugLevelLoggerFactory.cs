using System.Collections.Concurrent;

namespace TaskSystem.Server.Security;

/// <summary>
/// The logger factory the API key handler hands to ASP.NET Core's authentication base class. That class logs each
/// failed authentication at Information ("was not authenticated", "was challenged"): two lines, about 260 bytes, for
/// every request a stranger cares to send, so one client could grow the log by gigabytes a day. Through this factory
/// those lines are written at Debug: out of a production log, one setting away for whoever investigates
/// (<c>Logging:LogLevel:TaskSystem.Server.Security=Debug</c>). Warnings and errors keep their level.
/// </summary>
internal sealed class DebugLevelLoggerFactory(ILoggerFactory loggers) : ILoggerFactory
{
    private readonly ConcurrentDictionary<string, ILogger> _loggers = new(StringComparer.Ordinal);

    public ILogger CreateLogger(string categoryName) =>
        _loggers.GetOrAdd(categoryName, static (name, loggers) => new DebugLevelLogger(loggers.CreateLogger(name)), loggers);

    public void AddProvider(ILoggerProvider provider) => loggers.AddProvider(provider);

    /// <summary>The host's factory is not ours to dispose.</summary>
    public void Dispose()
    {
    }

    private sealed class DebugLevelLogger(ILogger logger) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => logger.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logger.IsEnabled(Demote(logLevel));

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var level = Demote(logLevel);
            logger.Log(level, eventId, state, exception, formatter);
        }

        private static LogLevel Demote(LogLevel level) => level == LogLevel.Information ? LogLevel.Debug : level;
    }
}
