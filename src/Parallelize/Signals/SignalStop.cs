using System.Runtime.InteropServices;
using Parallelize.Signals;

namespace Parallelize.Signals;

/// <summary>
/// Stops a pool gracefully when the process is asked to end — Ctrl-C (SIGINT) or SIGTERM — in one line, and tells
/// the program which signal came and the exit code to end with.
/// </summary>
/// <remarks>
/// <code>
/// using var pool = new Parallelize&lt;int, int&gt;(Work, count: 8);
/// using SignalStop&lt;int&gt; stop = pool.StopOnSignals(TimeSpan.FromSeconds(2));   // Ctrl-C / SIGTERM stop the pool
/// foreach (int input in inputs)
/// {
///     if (stop.Signalled.IsCancellationRequested) break;
///     pool.Invoke(input);
/// }
///
/// pool.Wait();                                 // returns when the work is done, or when a signal stopped the pool
/// IReadOnlyList&lt;int&gt; aborted = stop.Stop();   // the inputs the signal's stop aborted (empty after a completed Wait)
/// return stop.ExitCode;                        // 0, or 130 after Ctrl-C, 143 after SIGTERM
/// </code>
/// </remarks>
public static class SignalStop
{
    /// <summary>
    /// Stops <paramref name="pool"/> on Ctrl-C (SIGINT) or SIGTERM, letting calls in flight finish for up to
    /// <paramref name="finishTimeout"/>; a second signal ends the process at once.
    /// </summary>
    /// <typeparam name="TIn">The type of the pool's inputs.</typeparam>
    /// <typeparam name="TOut">The type of the pool's results.</typeparam>
    /// <param name="pool">The pool to stop.</param>
    /// <param name="finishTimeout">How long calls in flight may take to finish; <see cref="Timeout.InfiniteTimeSpan"/> for no limit.</param>
    /// <returns>The registration: dispose it to restore the default handling of the signals.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="pool"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="finishTimeout"/> is negative and not <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    /// <exception cref="PlatformNotSupportedException">The platform has no signals (for example a browser).</exception>
    public static SignalStop<TIn> StopOnSignals<TIn, TOut>(this Parallelize<TIn, TOut> pool, TimeSpan finishTimeout)
    {
        ArgumentNullException.ThrowIfNull(pool);
        if (finishTimeout < TimeSpan.Zero && finishTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(finishTimeout), finishTimeout, "The finish timeout must be zero or more, or Timeout.InfiniteTimeSpan.");
        }

        return pool.StopOnSignals(new SignalStopOptions { FinishTimeout = finishTimeout });
    }

    /// <summary>Stops <paramref name="pool"/> on the signals, with the finish timeout and second-signal behaviour, of <paramref name="options"/>.</summary>
    /// <typeparam name="TIn">The type of the pool's inputs.</typeparam>
    /// <typeparam name="TOut">The type of the pool's results.</typeparam>
    /// <param name="pool">The pool to stop.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults (SIGINT and SIGTERM, 5 seconds to finish, a second signal exits).</param>
    /// <returns>The registration: dispose it to restore the default handling of the signals.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="pool"/> is <see langword="null"/>.</exception>
    /// <exception cref="PlatformNotSupportedException">The platform has no signals (for example a browser).</exception>
    public static SignalStop<TIn> StopOnSignals<TIn, TOut>(this Parallelize<TIn, TOut> pool, SignalStopOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pool);
        return new SignalStop<TIn>(pool.Stop, options ?? new SignalStopOptions(), ProcessSignalHost.Instance);
    }

    /// <summary>Gets the conventional exit code of a process ended by <paramref name="signal"/>: 128 plus the signal's number.</summary>
    /// <param name="signal">SIGHUP, SIGINT, SIGQUIT or SIGTERM.</param>
    /// <returns>129, 130, 131 or 143.</returns>
    internal static int ExitCodeOf(PosixSignal signal) => 128 + signal switch
    {
        PosixSignal.SIGHUP => 1,
        PosixSignal.SIGINT => 2,
        PosixSignal.SIGQUIT => 3,
        PosixSignal.SIGTERM => 15,
        _ => throw new ArgumentOutOfRangeException(nameof(signal), signal, "Only SIGHUP, SIGINT, SIGQUIT and SIGTERM stop a pool."),
    };
}
