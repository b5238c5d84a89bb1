using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Parallelize.Orleans.Tests.Support;

/// <summary>A logger that keeps every message, with its event id.</summary>
internal sealed class ListLogger : ILogger
{
    private readonly ConcurrentQueue<(EventId Id, string Message)> _entries = new();

    public IReadOnlyCollection<(EventId Id, string Message)> Entries => _entries;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _entries.Enqueue((eventId, formatter(state, exception)));

    public IEnumerable<string> Named(string eventName) => _entries.Where(e => e.Id.Name == eventName).Select(static e => e.Message);
}
