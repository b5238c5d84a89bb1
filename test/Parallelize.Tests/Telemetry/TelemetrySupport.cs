using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Parallelize.Tests.Telemetry;

/// <summary>Receives progress reports synchronously, on the thread that makes them.</summary>
internal sealed class CollectingProgress(Action<ParallelizeProgress>? onReport = null) : IProgress<ParallelizeProgress>
{
    private readonly Lock _lock = new();
    private readonly List<ParallelizeProgress> _reports = [];

    public List<ParallelizeProgress> Reports
    {
        get
        {
            lock (_lock)
            {
                return [.. _reports];
            }
        }
    }

    public void Report(ParallelizeProgress value)
    {
        lock (_lock)
        {
            _reports.Add(value);
        }

        onReport?.Invoke(value);
    }
}

/// <summary>One log entry with its structured fields.</summary>
internal sealed record LogEntry(LogLevel Level, EventId EventId, string Message, Exception? Exception, IReadOnlyDictionary<string, object?> Fields);

/// <summary>A logger that keeps every entry, with its structured fields.</summary>
internal sealed class CollectingLogger : ILogger
{
    private readonly Lock _lock = new();
    private readonly List<LogEntry> _entries = [];

    public List<LogEntry> Entries
    {
        get
        {
            lock (_lock)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var fields = new Dictionary<string, object?>();
        if (state is IReadOnlyList<KeyValuePair<string, object?>> pairs)
        {
            foreach (KeyValuePair<string, object?> pair in pairs)
            {
                fields[pair.Key] = pair.Value;
            }
        }

        lock (_lock)
        {
            _entries.Add(new LogEntry(logLevel, eventId, formatter(state, exception), exception, fields));
        }
    }
}

/// <summary>A meter factory of its own, so a test sees only its own pools' measurements.</summary>
internal sealed class TestMeterFactory : IMeterFactory
{
    private readonly Lock _lock = new();
    private readonly List<Meter> _meters = [];

    public IReadOnlyList<Meter> Meters
    {
        get
        {
            lock (_lock)
            {
                return [.. _meters];
            }
        }
    }

    public Meter Create(MeterOptions options)
    {
        lock (_lock)
        {
            // Like the real factory: one meter per name and version.
            Meter? meter = _meters.Find(m => m.Name == options.Name && m.Version == options.Version);
            if (meter is null)
            {
                meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
                _meters.Add(meter);
            }

            return meter;
        }
    }

    public void Dispose()
    {
        foreach (Meter meter in Meters)
        {
            meter.Dispose();
        }
    }
}

/// <summary>Listens to the instruments of one meter (or of pools with one name) and keeps the last value of each observable and every histogram record.</summary>
internal sealed class MetricsRecorder : IDisposable
{
    private readonly Lock _lock = new();
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _observed = [];
    private readonly List<double> _durations = [];

    public MetricsRecorder(Func<Instrument, bool> include, string? poolName = null)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (include(instrument))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (Matches(tags, poolName))
            {
                lock (_lock)
                {
                    _observed[instrument.Name] = _observed.GetValueOrDefault(instrument.Name) + value;
                }
            }
        });
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            if (Matches(tags, poolName))
            {
                lock (_lock)
                {
                    _durations.Add(value);
                }
            }
        });
        _listener.Start();
    }

    public List<double> Durations
    {
        get
        {
            lock (_lock)
            {
                return [.. _durations];
            }
        }
    }

    /// <summary>Collects every observable instrument once and returns what each reported.</summary>
    public Dictionary<string, long> Observe()
    {
        lock (_lock)
        {
            _observed.Clear();
        }

        _listener.RecordObservableInstruments();
        lock (_lock)
        {
            return new Dictionary<string, long>(_observed);
        }
    }

    public void Dispose() => _listener.Dispose();

    private static bool Matches(ReadOnlySpan<KeyValuePair<string, object?>> tags, string? poolName)
    {
        if (poolName is null)
        {
            return true;
        }

        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == ParallelizeMetrics.PoolNameTag && Equals(tag.Value, poolName))
            {
                return true;
            }
        }

        return false;
    }
}
