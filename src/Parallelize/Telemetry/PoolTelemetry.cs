using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Parallelize.Telemetry;

/// <summary>
/// A pool's progress reports, log messages and metrics, kept apart from its calls: everything here is reached from
/// the pool's rare events (a restart, a retirement, a failure, the fault, the stop), from the report timer, or from
/// a reader of progress; the only per-call work is <see cref="MeterInstruments.CallDuration"/>, which executors
/// record only while it has a listener.
/// </summary>
/// <remarks>
/// <para><b>Threads.</b> The hooks are called by workers and by <c>Stop</c> with no lock of the pool held, so log
/// messages and the user's progress handler never run under one. <see cref="ReadCounts"/> reads counts without a lock.</para>
/// <para><b>One report at a time.</b> <c>_reporting</c> is 1 while a report is being made. A timer tick that finds it
/// taken is skipped. The last report (<see cref="OnStopped"/>) never waits: it raises <c>_lastWanted</c> and tries to
/// take the flag; if a report is under way, its maker sees the flag after letting go (both sides use full fences)
/// and makes the last report itself. So the last report is made exactly once, after every other, and a handler that
/// stops the pool from inside a report does not deadlock.</para>
/// </remarks>
internal sealed class PoolTelemetry
{
    private readonly Func<PoolCounts> _read;
    private readonly TimeProvider _clock;
    private readonly long _started;
    private readonly ThroughputSampler _sampler;
    private readonly IProgress<ParallelizeProgress>? _progress;
    private readonly MeterInstruments _instruments;
    private readonly string _logName;
    private readonly TimeSpan _interval;
    private ITimer? _timer;
    private long _stoppedAt;
    private volatile bool _stopped;
    private int _reporting;
    private volatile bool _lastWanted;
    private bool _lastMade;

    public PoolTelemetry(ParallelizeOptions options, Func<PoolCounts> read)
    {
        _read = read;
        _clock = options.TimeProvider;
        _started = _clock.GetTimestamp();
        _sampler = new ThroughputSampler(_started, _clock.TimestampFrequency);
        _progress = options.Progress;
        Name = options.Name;
        _logName = options.Name ?? "unnamed";
        Logger = options.Logger ?? NullLogger.Instance;
        _instruments = MeterInstruments.For(options.MeterFactory);
        CallDuration = _instruments.CallDuration;
        Tags = options.Name is { } name ? [new(ParallelizeMetrics.PoolNameTag, name)] : [];
        _instruments.Register(this);
        if (_progress is not null)
        {
            _interval = options.ProgressInterval;
            _timer = _clock.CreateTimer(static state => ((PoolTelemetry)state!).Tick(), this, _interval, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Gets the dispatcher that runs the reports raised by the pool's runners.</summary>
    public SerialDispatcher Dispatcher { get; } = new();

    /// <summary>Gets the pool's name, or <see langword="null"/>.</summary>
    public string? Name { get; }

    /// <summary>Gets the logger (a silent one when none was given).</summary>
    public ILogger Logger { get; }

    /// <summary>Gets the histogram of call durations, shared by the pools of one meter.</summary>
    public Histogram<double> CallDuration { get; }

    /// <summary>Gets the tags of this pool's measurements.</summary>
    public KeyValuePair<string, object?>[] Tags { get; }

    /// <summary>Gets the pool's clock, for call durations.</summary>
    public TimeProvider Clock => _clock;

    /// <summary>Reads the pool's counts without a lock.</summary>
    public PoolCounts ReadCounts() => _read();

    /// <summary>Takes a snapshot of the pool's progress.</summary>
    public ParallelizeProgress Snapshot()
    {
        bool stopped = _stopped;
        PoolCounts counts = _read();
        long now = stopped ? Interlocked.Read(ref _stoppedAt) : _clock.GetTimestamp();
        double throughput = _sampler.Sample(now, counts.Succeeded + counts.Failed);
        // With the total known, what is left includes the calls not yet made (a bounded queue hides them); without it,
        // only the calls queued and running can be counted.
        long ended = counts.Succeeded + counts.Failed + counts.Aborted;
        long expected = counts.ExpectedCalls;
        long left = expected >= 0 ? Math.Max(0, expected - ended) : (long)counts.Queued + counts.Running;
        TimeSpan? timeLeft = stopped || left == 0 ? TimeSpan.Zero
            : throughput > 0 ? TimeSpan.FromSeconds(Math.Min(left / throughput, TimeSpan.MaxValue.TotalSeconds / 2))
            : null;
        return new ParallelizeProgress
        {
            Accepted = counts.Accepted,
            Queued = counts.Queued,
            Running = counts.Running,
            Succeeded = counts.Succeeded,
            Failed = counts.Failed,
            Retried = counts.Retried,
            Restarted = counts.Restarted,
            Aborted = counts.Aborted,
            Throughput = throughput,
            EstimatedTimeLeft = timeLeft,
            Elapsed = _clock.GetElapsedTime(_started, now),
            IsStopped = stopped,
            Executors = counts.Executors,
            RetiredExecutors = counts.RetiredExecutors,
            IsFaulted = counts.IsFaulted,
            IsPaused = counts.IsPaused,
            Outages = counts.Outages,
            LateOutcomes = counts.LateOutcomes,
            ExpectedCalls = expected >= 0 ? expected : null,
            PercentComplete = expected > 0 ? Math.Min(100, 100.0 * ended / expected) : expected == 0 ? 100 : null,
        };
    }

    /// <summary>An executor threw and is about to be restarted.</summary>
    public void OnRestart(int executorIndex, string location, Exception cause, long restarts) =>
        Log.ExecutorRestarted(Logger, cause, _logName, executorIndex, location, restarts);

    /// <summary>The restart policy retired an executor.</summary>
    public void OnRetired(int executorIndex, string location, Exception? cause, int liveExecutors) =>
        Log.ExecutorRetired(Logger, cause, _logName, executorIndex, location, liveExecutors);

    /// <summary>A call used up its attempts and was delivered to <c>Failures</c>.</summary>
    public void OnFailure(long callNumber, int attempts, Exception? lastError) =>
        Log.CallFailed(Logger, lastError, _logName, callNumber, attempts);

    /// <summary>An outage paused the pool.</summary>
    public void OnOutageStarted(int failures, int window, int executors, int refunded)
    {
        Log.OutageStarted(Logger, _logName, failures, window, executors, refunded);
        Report(last: false);
    }

    /// <summary>A call succeeded after an outage: the pool resumed.</summary>
    public void OnOutageEnded(TimeSpan duration)
    {
        Log.OutageEnded(Logger, _logName, duration.TotalMilliseconds);
        Report(last: false);
    }

    /// <summary>An outage lasted too long: the pool resumed and failures count again.</summary>
    public void OnOutageGaveUp(TimeSpan duration)
    {
        Log.OutageGaveUp(Logger, _logName, duration.TotalMilliseconds);
        Report(last: false);
    }

    /// <summary>Every executor is retired.</summary>
    public void OnFaulted(ParallelizeException fault, int executorCount)
    {
        Log.PoolFaulted(Logger, fault, _logName, executorCount);
        Report(last: false);
    }

    /// <summary>
    /// The pool has stopped and its counts are final: freezes the clock, logs, makes the last report and leaves the meter.
    /// Runs after every report the runners raised; called from one of those reports (a handler that stopped the pool),
    /// it is queued behind it instead.
    /// </summary>
    public void OnStopped()
    {
        if (Dispatcher.IsDrainingHere)
        {
            Dispatcher.Post(StoppedNow);
            return;
        }

        Dispatcher.WaitForQueued();
        StoppedNow();
    }

    private void StoppedNow()
    {
        Interlocked.Exchange(ref _stoppedAt, _clock.GetTimestamp());
        _stopped = true;
        Interlocked.Exchange(ref _timer, null)?.Dispose();
        PoolCounts final = _read();
        if (Logger.IsEnabled(LogLevel.Information))
        {
            double elapsedMs = _clock.GetElapsedTime(_started, Interlocked.Read(ref _stoppedAt)).TotalMilliseconds;
            Log.PoolStopped(Logger, _logName, elapsedMs, final.Accepted, final.Succeeded, final.Failed, final.Aborted, final.Restarted);
        }

        _instruments.Unregister(this, final);
        Report(last: true);
    }

    /// <summary>
    /// The timer is one-shot and re-armed after each report, so reports never pile up behind a slow handler and the
    /// next is due an interval after the last one ended.
    /// </summary>
    private void Tick()
    {
        Report(last: false);
        try
        {
            Volatile.Read(ref _timer)?.Change(_interval, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // The pool stopped meanwhile.
        }
    }

    /// <summary>Makes a report, unless one is under way (see "One report at a time" in the remarks).</summary>
    private void Report(bool last)
    {
        if (_progress is null)
        {
            return;
        }

        if (last)
        {
            _lastWanted = true;
        }

        while (Interlocked.CompareExchange(ref _reporting, 1, 0) == 0)
        {
            try
            {
                if (_lastMade)
                {
                    return;
                }

                bool makeLast = _lastWanted;
                if (!makeLast && _stopped)
                {
                    // A tick racing the stop: the last report, due any moment, says it all.
                    return;
                }

                Deliver(Snapshot());
                _lastMade = makeLast;
            }
            finally
            {
                Interlocked.Exchange(ref _reporting, 0);
            }

            if (!_lastWanted || _lastMade)
            {
                return;
            }
        }
    }

    private void Deliver(ParallelizeProgress progress)
    {
        try
        {
            _progress!.Report(progress);
        }
#pragma warning disable CA1031 // The user's handler must not take down the timer thread or Stop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ProgressHandlerFailed(Logger, ex, _logName);
        }
    }
}
