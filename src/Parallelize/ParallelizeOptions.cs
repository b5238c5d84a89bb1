using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Parallelize;

/// <summary>
/// Options of a <see cref="Parallelize{TIn, TOut}"/>. Every property has a documented default; values are
/// checked when set, so a bad value fails where it is written.
/// </summary>
/// <remarks>
/// <para><b>Attempts.</b> Each input may be tried <see cref="MaxAttempts"/> times. A fault (an executor that throws)
/// or a <see cref="RetryException"/> uses one attempt; an input whose attempts are used up goes to
/// <see cref="Parallelize{TIn, TOut}.Failures"/>.</para>
/// <para><b>Restarts.</b> An executor that throws is restarted, in the manner of an Erlang supervisor: it may be
/// restarted at most <see cref="MaxRestarts"/> times within <see cref="RestartWindow"/> without completing a call
/// in between; one more fault retires it. The first restart after a successful call is immediate; each further
/// consecutive restart waits <see cref="RestartBackoff"/>, doubled each time, up to <see cref="MaxRestartBackoff"/>.
/// A successful call clears the executor's restart history, so an executor that keeps producing results is never
/// retired for occasional bad inputs. When every executor is retired the pool is faulted.</para>
/// <para><b>Seeing what happens.</b> <see cref="Progress"/> receives a <see cref="ParallelizeProgress"/> every
/// <see cref="ProgressInterval"/>; <see cref="Logger"/> receives restarts, retirements, failures and stops; the
/// <c>Parallelize</c> meter (see <see cref="ParallelizeMetrics"/>) counts calls for <c>dotnet-counters</c> and
/// OpenTelemetry, tagged with <see cref="Name"/>. All are off or silent by default and cost the calls nothing.</para>
/// </remarks>
public sealed record ParallelizeOptions
{
    private readonly int _maxAttempts = 3;
    private readonly int _maxRestarts = 5;
    private readonly TimeSpan _restartWindow = TimeSpan.FromMinutes(1);
    private readonly TimeSpan _restartBackoff = TimeSpan.FromMilliseconds(10);
    private readonly TimeSpan _maxRestartBackoff = TimeSpan.FromSeconds(1);
    private readonly TimeProvider _timeProvider = TimeProvider.System;
    private readonly int? _boundedCapacity;
    private readonly TimeSpan _progressInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest delay .NET timers accept (about 49.7 days).</summary>
    internal static readonly TimeSpan MaxTimerDelay = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <summary>The longest timed wait every .NET wait primitive accepts (about 24.8 days); longer waits are treated as unlimited.</summary>
    internal static readonly TimeSpan MaxWait = TimeSpan.FromMilliseconds(int.MaxValue);

    /// <summary>Gets the number of times one input may be tried before it goes to <c>Failures</c>.</summary>
    /// <value>At least 1. The default is 3.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxAttempts
    {
        get => _maxAttempts;
        init => _maxAttempts = value >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxAttempts), value, "MaxAttempts must be at least 1.");
    }

    /// <summary>Gets the number of restarts an executor may have within <see cref="RestartWindow"/>, without a successful call in between, before its next fault retires it.</summary>
    /// <value>Zero or more; zero retires an executor at its first fault. The default is 5.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int MaxRestarts
    {
        get => _maxRestarts;
        init => _maxRestarts = value >= 0
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxRestarts), value, "MaxRestarts must not be negative.");
    }

    /// <summary>Gets the window in which restarts are counted against <see cref="MaxRestarts"/>; older restarts are forgotten.</summary>
    /// <value>Greater than zero. The default is one minute.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public TimeSpan RestartWindow
    {
        get => _restartWindow;
        init => _restartWindow = value > TimeSpan.Zero
            ? value
            : throw new ArgumentOutOfRangeException(nameof(RestartWindow), value, "RestartWindow must be greater than zero.");
    }

    /// <summary>Gets the delay before the second consecutive restart of an executor; it doubles with each further consecutive restart.</summary>
    /// <value>Zero to about 49.7 days (the longest timer .NET supports); zero restarts at once every time. The default is 10 milliseconds.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or longer than a timer supports.</exception>
    public TimeSpan RestartBackoff
    {
        get => _restartBackoff;
        init => _restartBackoff = value >= TimeSpan.Zero && value <= MaxTimerDelay
            ? value
            : throw new ArgumentOutOfRangeException(nameof(RestartBackoff), value, "RestartBackoff must be zero or more and at most 4294967294 milliseconds.");
    }

    /// <summary>Gets the longest delay before a restart.</summary>
    /// <value>Zero to about 49.7 days (the longest timer .NET supports). The default is one second.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or longer than a timer supports.</exception>
    public TimeSpan MaxRestartBackoff
    {
        get => _maxRestartBackoff;
        init => _maxRestartBackoff = value >= TimeSpan.Zero && value <= MaxTimerDelay
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxRestartBackoff), value, "MaxRestartBackoff must be zero or more and at most 4294967294 milliseconds.");
    }

    /// <summary>
    /// Gets the most calls that may be queued and not yet started. When the queue is full, <c>Invoke</c> blocks,
    /// <c>InvokeAsync</c> waits and <c>TryInvoke</c> returns <see langword="false"/>. A bounded pool also limits the
    /// calls accepted and not yet delivered (queued, running, waiting in the reorder buffer of
    /// <see cref="OrderedResults"/>, or unread in the result stream when <see cref="RetainResults"/> is off) to this
    /// capacity plus the number of executors, so memory stays flat however long the stream, and a slow reader of the
    /// stream holds back the callers. The reorder buffer never holds more than that either.
    /// </summary>
    /// <value>At least 1, or <see langword="null"/> for no limit. The default is <see langword="null"/>.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int? BoundedCapacity
    {
        get => _boundedCapacity;
        init => _boundedCapacity = value is null or >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(BoundedCapacity), value, "BoundedCapacity must be at least 1, or null for no limit.");
    }

    /// <summary>
    /// Gets a value indicating whether results are kept in <c>Results</c>. Turn it off for endless streams: each result
    /// then ends in the result stream (<c>ReadAllAsync</c> and its siblings), which has a single reader, and memory
    /// does not grow with the number of calls.
    /// </summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool RetainResults { get; init; } = true;

    /// <summary>
    /// Gets a value indicating whether results are delivered in call order rather than completion order. A call that
    /// fails for good (it is in <c>Failures</c>) or is aborted by <c>Stop</c> leaves its place empty: later results
    /// are not held back for it.
    /// </summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool OrderedResults { get; init; }

    /// <summary>Gets the clock used for the restart window, restart backoff, the finish timeout of <c>Stop</c>, progress reports and call durations.</summary>
    /// <value>The default is <see cref="TimeProvider.System"/>; tests may pass a manual clock.</value>
    /// <exception cref="ArgumentNullException">The value is <see langword="null"/>.</exception>
    public TimeProvider TimeProvider
    {
        get => _timeProvider;
        init => _timeProvider = value ?? throw new ArgumentNullException(nameof(TimeProvider));
    }

    /// <summary>Gets the pool's name, used as the <c>parallelize.pool.name</c> tag of its metrics and in its log messages.</summary>
    /// <value>The default is <see langword="null"/>: no tag, and "unnamed" in log messages.</value>
    public string? Name { get; init; }

    /// <summary>
    /// Gets the logger for restarts (warning), retired executors (error), inputs that used up their attempts
    /// (warning; the input's value is not logged, only its call number), the pool's fault (error) and stops
    /// (information). Nothing is logged for a call that succeeds, and never while the pool holds a lock.
    /// </summary>
    /// <value>The default is <see langword="null"/>: nothing is logged.</value>
    public ILogger? Logger { get; init; }

    /// <summary>
    /// Gets the factory that creates the pool's <c>Parallelize</c> meter, as dependency injection provides it
    /// (<c>services.AddMetrics()</c>), so the meter is scoped to the container.
    /// </summary>
    /// <value>The default is <see langword="null"/>: a meter shared by every pool of the process is used.</value>
    public IMeterFactory? MeterFactory { get; init; }

    /// <summary>
    /// Gets where the pool reports its progress: every <see cref="ProgressInterval"/> while it runs, at once if it
    /// faults, and a last time when it has stopped (with <see cref="ParallelizeProgress.IsStopped"/> set). Reports
    /// come from a timer of <see cref="TimeProvider"/>, never from the calls, and one at a time; a report still running
    /// when the next is due makes the pool skip that one. Pass a <see cref="Progress{T}"/> to receive them on the
    /// synchronization context it was created on, or through its <c>ProgressChanged</c> event. An exception thrown
    /// by the handler is logged and ignored.
    /// </summary>
    /// <value>The default is <see langword="null"/>: no reports (<see cref="Parallelize{TIn, TOut}.GetProgress"/> still works).</value>
    public IProgress<ParallelizeProgress>? Progress { get; init; }

    /// <summary>Gets how often <see cref="Progress"/> receives a report.</summary>
    /// <value>Greater than zero and at most about 49.7 days (the longest timer .NET supports). The default is 500 milliseconds.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero, negative or longer than a timer supports.</exception>
    public TimeSpan ProgressInterval
    {
        get => _progressInterval;
        init => _progressInterval = value > TimeSpan.Zero && value <= MaxTimerDelay
            ? value
            : throw new ArgumentOutOfRangeException(nameof(ProgressInterval), value, "ProgressInterval must be greater than zero and at most 4294967294 milliseconds.");
    }
}
