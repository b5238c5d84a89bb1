using System.Runtime.InteropServices;

namespace Parallelize.Signals;

/// <summary>
/// Options of <see cref="SignalStop.StopOnSignals{TIn, TOut}(Parallelize{TIn, TOut}, SignalStopOptions?)"/>: which
/// signals stop the pool, how long calls in flight get to finish, and what a second signal does. Every property has
/// a documented default; values are checked when set.
/// </summary>
public sealed record SignalStopOptions
{
    private static readonly PosixSignal[] s_supported = [PosixSignal.SIGHUP, PosixSignal.SIGINT, PosixSignal.SIGQUIT, PosixSignal.SIGTERM];

    private readonly TimeSpan? _finishTimeout = TimeSpan.FromSeconds(5);
    private readonly IReadOnlyList<PosixSignal> _signals = [PosixSignal.SIGINT, PosixSignal.SIGTERM];

    /// <summary>Gets how long calls in flight may take to finish once a signal has stopped the pool; passed to <see cref="Parallelize{TIn, TOut}.Stop(TimeSpan?)"/>.</summary>
    /// <value>
    /// Zero or more; <see langword="null"/> or <see cref="Timeout.InfiniteTimeSpan"/> for no limit (a second signal
    /// still exits at once). The default is 5 seconds: long enough for short calls to finish, well inside the 10
    /// seconds a container runtime usually waits after SIGTERM before it kills the process.
    /// </value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative and not <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    public TimeSpan? FinishTimeout
    {
        get => _finishTimeout;
        init => _finishTimeout = value is not { } timeout || timeout >= TimeSpan.Zero || timeout == Timeout.InfiniteTimeSpan
            ? value
            : throw new ArgumentOutOfRangeException(nameof(FinishTimeout), value, "FinishTimeout must be zero or more, null, or Timeout.InfiniteTimeSpan.");
    }

    /// <summary>Gets the signals that stop the pool.</summary>
    /// <value>
    /// One or more of <see cref="PosixSignal.SIGINT"/> (Ctrl-C), <see cref="PosixSignal.SIGTERM"/>,
    /// <see cref="PosixSignal.SIGHUP"/> and <see cref="PosixSignal.SIGQUIT"/>. The default is SIGINT and SIGTERM.
    /// </value>
    /// <exception cref="ArgumentNullException">The value is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The value is empty or holds another signal.</exception>
    public IReadOnlyList<PosixSignal> Signals
    {
        get => _signals;
        init
        {
            ArgumentNullException.ThrowIfNull(value, nameof(Signals));
            if (value.Count == 0)
            {
                throw new ArgumentException("Signals must hold at least one signal.", nameof(Signals));
            }

            foreach (PosixSignal signal in value)
            {
                if (Array.IndexOf(s_supported, signal) < 0)
                {
                    throw new ArgumentException($"Signals may hold SIGINT, SIGTERM, SIGHUP and SIGQUIT, not {signal}.", nameof(Signals));
                }
            }

            _signals = [.. value];
        }
    }

    /// <summary>Gets a value indicating whether a second signal, while the first one's stop is under way or after it, ends the process at once.</summary>
    /// <value>
    /// <see langword="true"/> (the default): the second signal calls <see cref="Environment.Exit(int)"/> with its
    /// conventional code (130 for Ctrl-C), as a user pressing Ctrl-C twice expects. <see langword="false"/>: further
    /// signals are ignored and the stop always runs to its end.
    /// </value>
    public bool ExitOnSecondSignal { get; init; } = true;
}
