using System.Reflection;

namespace Parallelize.Isolation;

/// <summary>
/// Options of isolated executors (<see cref="Isolated"/>): how their worker processes are started, given deadlines,
/// recycled and shut down. Every property has a documented default; values are checked when set.
/// </summary>
public sealed record IsolationOptions
{
    /// <summary>The longest timeout a timer supports (about 49.7 days).</summary>
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private readonly WireCodecProvider _codecs = new JsonWireCodecProvider();
    private readonly TimeSpan? _callTimeout;
    private readonly TimeSpan _startTimeout = TimeSpan.FromSeconds(30);
    private readonly TimeSpan _gracePeriod = TimeSpan.FromSeconds(2);
    private readonly long? _recycleAfterCalls;
    private readonly long? _maxMemory;
    private readonly int? _maxCrashesPerInput;
    private readonly int _standardErrorTailSize = 4096;
    private readonly int _maxCallsInFlight = 8;
    private readonly TimeProvider _timeProvider = TimeProvider.System;

    /// <summary>Gets the program the worker processes run: an assembly whose <c>Main</c> calls <see cref="IsolatedWorker.RunIfWorker"/> first.</summary>
    /// <value>
    /// The default is <see langword="null"/>: the entry assembly, or, when the entry assembly is a test host (under
    /// <c>dotnet test</c>), the assembly that defines the executor (or its factory), which must then be an executable
    /// with such a <c>Main</c> (a test project with <c>GenerateProgramFile</c> set to <see langword="false"/>).
    /// </value>
    public Assembly? WorkerAssembly { get; init; }

    /// <summary>Gets the codecs that carry inputs, results and factory arguments across the process boundary.</summary>
    /// <value>The default is a <see cref="JsonWireCodecProvider"/> (System.Text.Json with reflection).</value>
    /// <exception cref="ArgumentNullException">The value is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The provider's type is not public or has no public parameterless constructor (the worker creates its own).</exception>
    public WireCodecProvider Codecs
    {
        get => _codecs;
        init
        {
            ArgumentNullException.ThrowIfNull(value, nameof(Codecs));
            Type type = value.GetType();
            if (!type.IsVisible || type.GetConstructor(Type.EmptyTypes) is null)
            {
                throw new ArgumentException($"The codec provider {type.FullName} must be a public type with a public parameterless constructor: each worker process creates its own.", nameof(Codecs));
            }

            _codecs = value;
        }
    }

    /// <summary>
    /// Gets the longest one call may run in its worker. A worker still in the call then (a busy loop, a deadlock, a
    /// stopped process) is killed with its process group and started again; the call fails with a
    /// <see cref="WorkerCrashedException"/> whose <see cref="WorkerCrashedException.Reason"/> is
    /// <see cref="WorkerExitReason.CallTimeout"/>, which uses one of the input's attempts.
    /// </summary>
    /// <value>Greater than zero and at most about 49.7 days, or <see langword="null"/> for no limit. The default is <see langword="null"/>.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero, negative, or longer than a timer supports.</exception>
    public TimeSpan? CallTimeout
    {
        get => _callTimeout;
        init => _callTimeout = value is null || (value > TimeSpan.Zero && value <= MaxTimeout)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(CallTimeout), value, "CallTimeout must be greater than zero and at most 4294967294 milliseconds, or null for no limit.");
    }

    /// <summary>
    /// Gets how long starting a worker process may take, and, separately, creating its executor. A worker that takes
    /// longer (a factory that hangs) is killed, and the creation fails with a <see cref="WorkerCrashedException"/>
    /// whose reason is <see cref="WorkerExitReason.StartTimeout"/>, under the pool's restart policy.
    /// </summary>
    /// <value>Greater than zero and at most about 49.7 days. The default is 30 seconds.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero, negative, or longer than a timer supports.</exception>
    public TimeSpan StartTimeout
    {
        get => _startTimeout;
        init => _startTimeout = value > TimeSpan.Zero && value <= MaxTimeout
            ? value
            : throw new ArgumentOutOfRangeException(nameof(StartTimeout), value, "StartTimeout must be greater than zero and at most 4294967294 milliseconds.");
    }

    /// <summary>
    /// Gets how long a worker asked to exit (the executor disposed, the worker recycled) may take before it is killed,
    /// and how long a call cancelled by the pool's <c>Stop</c> may take to end before its worker is killed.
    /// </summary>
    /// <value>Zero (kill at once) or more, at most about 49.7 days. The default is 2 seconds.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or longer than a timer supports.</exception>
    public TimeSpan GracePeriod
    {
        get => _gracePeriod;
        init => _gracePeriod = value >= TimeSpan.Zero && value <= MaxTimeout
            ? value
            : throw new ArgumentOutOfRangeException(nameof(GracePeriod), value, "GracePeriod must be zero or more and at most 4294967294 milliseconds.");
    }

    /// <summary>
    /// Gets after how many calls a worker process is replaced by a fresh one, between two calls: no input is lost or
    /// retried for it. Useful against leaks in native code.
    /// </summary>
    /// <value>At least 1, or <see langword="null"/> for never. The default is <see langword="null"/>.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public long? RecycleAfterCalls
    {
        get => _recycleAfterCalls;
        init => _recycleAfterCalls = value is null or >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(RecycleAfterCalls), value, "RecycleAfterCalls must be at least 1, or null for never.");
    }

    /// <summary>
    /// Gets the resident memory (bytes) above which a worker process is replaced by a fresh one after its current
    /// call, as <see cref="RecycleAfterCalls"/> does. Checked after a call at most every 100 ms.
    /// </summary>
    /// <value>At least 1, or <see langword="null"/> for no limit. The default is <see langword="null"/>.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public long? MaxMemory
    {
        get => _maxMemory;
        init => _maxMemory = value is null or >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxMemory), value, "MaxMemory must be at least 1 byte, or null for no limit.");
    }

    /// <summary>
    /// Gets how many times one input may crash a worker (or run past <see cref="CallTimeout"/>) before it is no longer
    /// run: its remaining attempts then end at once, each with a <see cref="RetryException"/> whose inner exception is
    /// its last <see cref="WorkerCrashedException"/>, so that it reaches <c>Failures</c> without killing more workers.
    /// Inputs are told apart by their encoded bytes.
    /// </summary>
    /// <value>
    /// At least 1, or <see langword="null"/>: each crash simply uses one of the input's
    /// <see cref="ParallelizeOptions.MaxAttempts"/>. The default is <see langword="null"/>. A value at or above
    /// <c>MaxAttempts</c> changes nothing.
    /// </value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int? MaxCrashesPerInput
    {
        get => _maxCrashesPerInput;
        init => _maxCrashesPerInput = value is null or >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxCrashesPerInput), value, "MaxCrashesPerInput must be at least 1, or null.");
    }

    /// <summary>
    /// Gets how many calls one worker may hold at once: the pool sends them together and the worker runs them one after
    /// another, so that it never waits for this process between two calls. When the worker dies, the call it was
    /// running is blamed and the others, which it never started, go back to the queue at no cost. The pool's leases
    /// adapt to the calls' duration, so slow calls go one at a time whatever this says.
    /// </summary>
    /// <value>From 1 (one call at a time) to 256. The default is 8.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1 or more than 256.</exception>
    public int MaxCallsInFlight
    {
        get => _maxCallsInFlight;
        init => _maxCallsInFlight = value is >= 1 and <= 256
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxCallsInFlight), value, "MaxCallsInFlight must be between 1 and 256.");
    }

    /// <summary>Gets environment variables to set (or, with a <see langword="null"/> value, to remove) in worker processes, over this process's environment.</summary>
    /// <value>The default is <see langword="null"/>: workers inherit this process's environment, with <c>DOTNET_gcServer=0</c> (workstation GC) unless set here.</value>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    /// <summary>Gets a value indicating whether what workers write to standard error (and to standard output, which a worker sends there) is copied to this process's standard error.</summary>
    /// <value>The default is <see langword="false"/>: it is only kept, as a tail, for crash reports.</value>
    public bool ForwardStandardError { get; init; }

    /// <summary>Gets how many of the last bytes a worker wrote to standard error are kept for <see cref="WorkerCrashedException.StandardErrorTail"/>.</summary>
    /// <value>From 0 to 1 MiB. The default is 4,096.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or above 1 MiB.</exception>
    public int StandardErrorTailSize
    {
        get => _standardErrorTailSize;
        init => _standardErrorTailSize = value is >= 0 and <= 1 << 20
            ? value
            : throw new ArgumentOutOfRangeException(nameof(StandardErrorTailSize), value, "StandardErrorTailSize must be between 0 and 1048576 bytes.");
    }

    /// <summary>Gets the clock for <see cref="CallTimeout"/>, <see cref="StartTimeout"/> and <see cref="GracePeriod"/>.</summary>
    /// <value>The default is <see cref="TimeProvider.System"/>; tests may pass a manual clock.</value>
    /// <exception cref="ArgumentNullException">The value is <see langword="null"/>.</exception>
    public TimeProvider TimeProvider
    {
        get => _timeProvider;
        init => _timeProvider = value ?? throw new ArgumentNullException(nameof(TimeProvider));
    }
}
