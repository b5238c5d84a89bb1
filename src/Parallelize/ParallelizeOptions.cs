using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Parallelize;

/// <summary>
/// Options of a <see cref="Parallelize{TIn, TOut}"/>. Every property has a documented default; values are
/// checked when set, so a bad value fails where it is written.
/// </summary>
/// <remarks>
/// <para><b>The fault model.</b> When a call throws, the pool decides whose fault it was:</para>
/// <list type="bullet">
/// <item><description><b>The input's</b>, when it also fails on another executor (or there is only one): it uses the
/// input's attempts (<see cref="MaxAttempts"/>) and never counts against an executor. An input that fails everywhere
/// ends in <c>Failures</c> with every attempt's exception, and the run goes on. An exception not worth retrying
/// (<see cref="ShouldRetry"/>: by default <see cref="ArgumentException"/>, <see cref="FormatException"/> and the like)
/// sends the input to <c>Failures</c> at once.</description></item>
/// <item><description><b>The executor's</b>, when it failed an input that then succeeds on another executor (so the
/// verdict may come one attempt later): the executor is restarted — a deferred executor is created again — with
/// backoff, and retired when its budget is spent (<see cref="MaxRestarts"/> within <see cref="RestartWindow"/>); the
/// others carry on. Whether every fault restarts the executor at once, before the blame is known, is
/// <see cref="RestartOnEveryFault"/> (off: re-creating a connection for every bad row is expensive).</description></item>
/// <item><description><b>An outage's</b>, when nearly every recent call fails across the executors: the pool pauses,
/// probes, resumes, and gives back the attempts the outage cost (<see cref="Outages"/>).</description></item>
/// </list>
/// <para>A retried input waits <see cref="RetryDelay"/> (doubling with each failure, jittered, capped at
/// <see cref="MaxRetryDelay"/>) while the executors run other inputs, then goes first in line, to another executor
/// than the one it failed on whenever one is free. A call that overruns <see cref="CallTimeout"/> has its token
/// cancelled and fails with a <see cref="TimeoutException"/>. The pool faults only when no executor can run: every one
/// retired because it could not be created, or kept failing inputs that others ran.</para>
/// <para><b>Seeing what happens.</b> <see cref="Progress"/> receives a <see cref="ParallelizeProgress"/> every
/// <see cref="ProgressInterval"/>; <see cref="Logger"/> receives restarts, retirements, failures, outages and stops; the
/// <c>Parallelize</c> meter (see <see cref="ParallelizeMetrics"/>) counts calls for <c>dotnet-counters</c> and
/// OpenTelemetry, tagged with <see cref="Name"/>; the <c>Parallelize</c> activity source (see
/// <see cref="ParallelizeTracing"/>) traces each call for a listener. All are off or silent by default and cost the
/// calls nothing.</para>
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
    private readonly TimeSpan _retryDelay = TimeSpan.FromMilliseconds(10);
    private readonly TimeSpan _maxRetryDelay = TimeSpan.FromSeconds(2);
    private readonly TimeSpan? _callTimeout;
    private readonly long? _expectedCalls;

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

    /// <summary>
    /// Gets the number of faults blamed on an executor (each restarting it) it may have within <see cref="RestartWindow"/>,
    /// without a successful call in between, before the next one retires it. A factory that fails is always the
    /// executor's fault; a fault that the input also makes elsewhere never counts.
    /// </summary>
    /// <value>Zero or more; zero retires an executor at its first blamed fault. The default is 5.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int MaxRestarts
    {
        get => _maxRestarts;
        init => _maxRestarts = value >= 0
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxRestarts), value, "MaxRestarts must not be negative.");
    }

    /// <summary>Gets the window in which blamed faults are counted against <see cref="MaxRestarts"/>; older ones are forgotten.</summary>
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

    /// <summary>
    /// Gets the delay before an input's second attempt; it doubles with each further failure, up to
    /// <see cref="MaxRetryDelay"/>, and a random part of up to half of it is taken off so that inputs that failed
    /// together do not come back together. The executors run other inputs meanwhile.
    /// </summary>
    /// <value>Zero (retry at once) to about 49.7 days. The default is 10 milliseconds.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or longer than a timer supports.</exception>
    public TimeSpan RetryDelay
    {
        get => _retryDelay;
        init => _retryDelay = value >= TimeSpan.Zero && value <= MaxTimerDelay
            ? value
            : throw new ArgumentOutOfRangeException(nameof(RetryDelay), value, "RetryDelay must be zero or more and at most 4294967294 milliseconds.");
    }

    /// <summary>Gets the longest delay before an input's next attempt.</summary>
    /// <value>Zero to about 49.7 days. The default is 2 seconds.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or longer than a timer supports.</exception>
    public TimeSpan MaxRetryDelay
    {
        get => _maxRetryDelay;
        init => _maxRetryDelay = value >= TimeSpan.Zero && value <= MaxTimerDelay
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxRetryDelay), value, "MaxRetryDelay must be zero or more and at most 4294967294 milliseconds.");
    }

    /// <summary>
    /// Gets the test of whether an exception is worth another attempt. An input whose attempt throws an exception for
    /// which it returns <see langword="false"/> goes to <c>Failures</c> at once and counts against no executor. A
    /// <see cref="RetryException"/> is always retried, whatever this says. A predicate that throws means "retry".
    /// </summary>
    /// <value>
    /// The default is <see langword="null"/>: every exception is retried except <see cref="ArgumentException"/> (and
    /// the exceptions derived from it), <see cref="FormatException"/>, <see cref="NotSupportedException"/> and
    /// <see cref="NotImplementedException"/>, which say that the input itself is wrong (a malformed row fails the same
    /// way every time).
    /// </value>
    public Func<Exception, bool>? ShouldRetry { get; init; }

    /// <summary>
    /// Gets the longest one attempt may take. When it is reached the call's token is cancelled; the attempt fails with a
    /// <see cref="TimeoutException"/> when the call returns (even with a result), and the input is retried as for any
    /// failure. A synchronous call that ignores its token keeps its executor until it returns, but the calls taken with
    /// it go to other executors meanwhile.
    /// </summary>
    /// <value>Greater than zero and at most about 49.7 days, or <see langword="null"/> for no limit. The default is <see langword="null"/>.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero, negative, or longer than a timer supports.</exception>
    public TimeSpan? CallTimeout
    {
        get => _callTimeout;
        init => _callTimeout = value is null || (value > TimeSpan.Zero && value <= MaxTimerDelay)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(CallTimeout), value, "CallTimeout must be greater than zero and at most 4294967294 milliseconds, or null for no limit.");
    }

    /// <summary>
    /// Gets a value indicating whether every fault restarts its executor at once — a deferred executor is created
    /// again — before it is known whether the input or the executor was to blame. Only faults blamed on the executor
    /// count against <see cref="MaxRestarts"/> either way.
    /// </summary>
    /// <value>
    /// The default is <see langword="false"/>: an executor is restarted when a fault is blamed on it (the input it failed
    /// then succeeded on another executor), since re-creating a connection or reloading a model for every bad row is
    /// expensive. Turn it on for executors whose state a failed call may leave broken.
    /// </value>
    public bool RestartOnEveryFault { get; init; }

    /// <summary>
    /// Gets how the pool recognises an outage of whatever its executors call, pauses during it and gives back the attempts
    /// it cost: see <see cref="OutageOptions"/>.
    /// </summary>
    /// <value>The default is a new <see cref="OutageOptions"/> (an outage of a few seconds costs no input); <see langword="null"/> turns detection off, so every failure counts.</value>
    public OutageOptions? Outages { get; init; } = new();

    /// <summary>
    /// Gets a value indicating whether each call runs in the <see cref="ExecutionContext"/> of the code that made it
    /// (<c>Invoke</c>), as PLINQ and <c>Parallel.ForEachAsync</c> do: <see cref="AsyncLocal{T}"/> values,
    /// <see cref="System.Diagnostics.Activity.Current"/> (so a call's span is a child of the caller's) and logging scopes
    /// flow into the call.
    /// </summary>
    /// <value>The default is <see langword="true"/>. Turn it off for raw speed when the calls need nothing from their caller's context; they then run in the executor's own, empty one.</value>
    public bool FlowExecutionContext { get; init; } = true;

    /// <summary>
    /// Gets how many calls the pool will be given in all, when that is known up front (a file's rows, a list's items):
    /// progress then reports <see cref="ParallelizeProgress.PercentComplete"/> and estimates the time left from the
    /// calls not yet ended, including those not yet made, which a bounded queue would otherwise hide. Can also be
    /// set later (<see cref="Parallelize{TIn, TOut}.SetExpectedCalls"/>).
    /// </summary>
    /// <value>At least 0, or <see langword="null"/> when unknown. The default is <see langword="null"/>.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public long? ExpectedCalls
    {
        get => _expectedCalls;
        init => _expectedCalls = value is null or >= 0
            ? value
            : throw new ArgumentOutOfRangeException(nameof(ExpectedCalls), value, "ExpectedCalls must be zero or more, or null when unknown.");
    }

    /// <summary>The built-in rule of <see cref="ShouldRetry"/>: everything but exceptions that say the input itself is wrong.</summary>
    internal static bool IsWorthRetrying(Exception exception) =>
        exception is not (ArgumentException or FormatException or NotSupportedException or NotImplementedException);
}
