using System.Runtime.InteropServices;
using Parallelize.Signals;

namespace Parallelize.Signals;

/// <summary>
/// A registration that stops a pool when the process gets a signal (by default Ctrl-C or SIGTERM), hands back the
/// inputs that stop aborted, and says which signal came and the exit code to end with. Created by
/// <see cref="SignalStop.StopOnSignals{TIn, TOut}(Parallelize{TIn, TOut}, TimeSpan)"/>; dispose it to restore the
/// default handling of the signals.
/// </summary>
/// <typeparam name="TIn">The type of the pool's inputs.</typeparam>
/// <remarks>
/// <para><b>The first signal</b> is handled (the process does not end): <see cref="Signal"/> and
/// <see cref="ExitCode"/> are set, <see cref="Signalled"/> is cancelled, then the pool is stopped with the finish
/// timeout on a thread of its own. <see cref="Parallelize{TIn, TOut}.Wait()"/> returns once the pool has stopped,
/// so a program blocked in <c>Wait</c> carries on; <see cref="Stop"/> then returns the aborted inputs. Calls to
/// <c>Invoke</c> after the stop began throw <see cref="InvalidOperationException"/>: check
/// <see cref="Signalled"/> in a producer loop, and catch that exception where a call may race the signal.</para>
/// <para><b>A second signal</b> ends the process at once with its conventional exit code, without waiting for
/// the calls in flight (unless <see cref="SignalStopOptions.ExitOnSecondSignal"/> is off).</para>
/// <para>Call <see cref="Stop"/> rather than the pool's own <c>Stop</c> to end a run: the pool returns the aborted
/// inputs only to the first stop, and that may have been the signal's.</para>
/// <para>This type is thread-safe.</para>
/// </remarks>
public sealed class SignalStop<TIn> : IDisposable
{
    // Threads: signal handlers run on the runtime's signal thread and must return at once (the next signal is
    // handled only after they do), so a handler only records the signal and hands the stop to a dedicated thread.
    // _stop is set once, by whichever comes first of a signal and Stop/StopAsync; everyone else waits for it.
    // _signal is set once, by the first signal. No lock is taken anywhere.
    private readonly Func<TimeSpan?, IReadOnlyList<TIn>> _stopPool;
    private readonly SignalStopOptions _options;
    private readonly ISignalHost _host;
    private readonly IDisposable[] _registrations;

    // Never disposed: a signal's stop thread may still cancel it after this registration is disposed, and a
    // CancellationTokenSource without timers holds nothing that needs disposing.
    private readonly CancellationTokenSource _signalled = new();
    private Task<IReadOnlyList<TIn>>? _stop;
    private int _signal;
    private int _disposed;

    /// <summary>Registers the handlers; the seam through which tests raise signals and observe exits.</summary>
    internal SignalStop(Func<TimeSpan?, IReadOnlyList<TIn>> stopPool, SignalStopOptions options, ISignalHost host)
    {
        _stopPool = stopPool;
        _options = options;
        _host = host;
        var registrations = new List<IDisposable>(options.Signals.Count);
        try
        {
            foreach (PosixSignal signal in options.Signals)
            {
                registrations.Add(host.Register(signal, OnSignal));
            }
        }
        catch
        {
            registrations.ForEach(static registration => registration.Dispose());
            throw;
        }

        _registrations = [.. registrations];
    }

    /// <summary>Gets the first signal that came, or <see langword="null"/> if none has.</summary>
    public PosixSignal? Signal => Volatile.Read(ref _signal) is var signal and not 0 ? (PosixSignal)signal : null;

    /// <summary>Gets the conventional exit code for the program to end with: 0 if no signal came, else 128 plus the signal's number (130 for Ctrl-C, 143 for SIGTERM).</summary>
    public int ExitCode => Signal is { } signal ? SignalStop.ExitCodeOf(signal) : 0;

    /// <summary>Gets a token cancelled when the first signal comes, just before the pool is stopped: stop producing calls when it is. Callbacks registered on it should be short; exceptions they throw are ignored.</summary>
    public CancellationToken Signalled => _signalled.Token;

    /// <summary>
    /// Stops the pool with the finish timeout, unless a signal already did; waits for whichever stop came first; and
    /// returns the inputs it aborted. After a completed <c>Wait</c> with no signal, that is an empty list.
    /// </summary>
    /// <returns>The aborted inputs in call order; every call returns the same list.</returns>
    /// <exception cref="InvalidOperationException">Called from inside one of the pool's own executors.</exception>
    public IReadOnlyList<TIn> Stop()
    {
        var ours = new TaskCompletionSource<IReadOnlyList<TIn>>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<IReadOnlyList<TIn>>? first = Interlocked.CompareExchange(ref _stop, ours.Task, null);
        if (first is not null)
        {
            return first.GetAwaiter().GetResult();
        }

        RunStop(ours);
        return ours.Task.GetAwaiter().GetResult();
    }

    /// <summary>Stops the pool like <see cref="Stop"/>, without blocking the calling thread.</summary>
    /// <param name="cancellationToken">Cancels the wait for the stop (not the stop itself, which always completes).</param>
    /// <returns>The aborted inputs in call order; every call returns the same list.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task<IReadOnlyList<TIn>> StopAsync(CancellationToken cancellationToken = default) =>
        BeginStop(signalled: false).WaitAsync(cancellationToken);

    /// <summary>Unregisters the signal handlers, restoring the default handling of the signals. Does not stop the pool, nor wait for a stop a signal began.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            foreach (IDisposable registration in _registrations)
            {
                registration.Dispose();
            }
        }
    }

    private void OnSignal(PosixSignalContext context)
    {
        // Handled either way: the first signal stops the pool gracefully, a second one exits here.
        context.Cancel = true;
        if (Interlocked.CompareExchange(ref _signal, (int)context.Signal, 0) != 0)
        {
            if (_options.ExitOnSecondSignal)
            {
                _host.Exit(SignalStop.ExitCodeOf(context.Signal));
            }

            return;
        }

        _ = BeginStop(signalled: true);
    }

    /// <summary>Starts the stop on a dedicated thread unless one has begun; returns the stop that runs.</summary>
    private Task<IReadOnlyList<TIn>> BeginStop(bool signalled)
    {
        var ours = new TaskCompletionSource<IReadOnlyList<TIn>>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<IReadOnlyList<TIn>>? first = Interlocked.CompareExchange(ref _stop, ours.Task, null);
        if (first is null || signalled)
        {
            // A dedicated thread, not the thread pool: the stop blocks for up to the finish timeout, and a starved
            // pool must not delay it.
            var thread = new Thread(() =>
            {
                if (signalled)
                {
                    CancelSignalled();
                }

                if (first is null)
                {
                    RunStop(ours);
                }
            })
            {
                IsBackground = true,
                Name = "Parallelize signal stop",
            };
            thread.UnsafeStart();
        }

        return first ?? ours.Task;
    }

    private void CancelSignalled()
    {
        try
        {
            _signalled.Cancel();
        }
        catch (AggregateException)
        {
            // A callback registered on Signalled threw; the pool must be stopped regardless.
        }
    }

    private void RunStop(TaskCompletionSource<IReadOnlyList<TIn>> stop)
    {
        try
        {
            stop.SetResult(_stopPool(_options.FinishTimeout));
        }
#pragma warning disable CA1031 // Handed to every caller of Stop and StopAsync through the task.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            stop.SetException(ex);
        }
    }
}
