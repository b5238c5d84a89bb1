namespace Parallelize;

public sealed partial class Parallelize<TIn, TOut>
{
    /// <summary>
    /// Blocks until every call queued so far, including calls queued while waiting, has ended in
    /// <see cref="Results"/> or <see cref="Failures"/> (or the pool has stopped).
    /// </summary>
    /// <remarks>It is signalled by the worker that records the last call, so it returns as soon as that call is recorded; it never polls.</remarks>
    /// <exception cref="ParallelizeException">The pool is faulted: every executor has been retired. <see cref="Stop(TimeSpan?)"/> returns the inputs not done.</exception>
    /// <exception cref="InvalidOperationException">Called from inside one of this pool's own executors, where it would wait for itself.</exception>
    public void Wait() => Wait(Timeout.InfiniteTimeSpan);

    /// <summary>Blocks like <see cref="Wait()"/>, for at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait, or <see cref="Timeout.InfiniteTimeSpan"/>.</param>
    /// <returns><see langword="true"/> if every queued call has ended; <see langword="false"/> if the time ran out first.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not <see cref="Timeout.InfiniteTimeSpan"/>, or too large.</exception>
    /// <exception cref="ParallelizeException">The pool is faulted: every executor has been retired.</exception>
    /// <exception cref="InvalidOperationException">Called from inside one of this pool's own executors.</exception>
    public bool Wait(TimeSpan timeout)
    {
        ValidateTimeout(timeout, nameof(timeout));
        ThrowIfInsideExecutor(nameof(Wait));
        ThrowIfFaulted();
        Task idle = _pending.IdleTask;
        if (!idle.IsCompleted && Task.WaitAny([idle, _faulted.Task], timeout) < 0)
        {
            return false;
        }

        ThrowIfFaulted();
        return true;
    }

    /// <summary>Waits like <see cref="Wait()"/> without blocking a thread.</summary>
    /// <param name="cancellationToken">Cancels the wait (not the calls).</param>
    /// <returns>A task that completes when every queued call has ended.</returns>
    /// <exception cref="ParallelizeException">The pool is faulted: every executor has been retired.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="InvalidOperationException">Called from inside one of this pool's own executors.</exception>
    public async Task WaitAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfInsideExecutor(nameof(WaitAsync));
        ThrowIfFaulted();
        Task idle = _pending.IdleTask;
        if (!idle.IsCompleted)
        {
            await Task.WhenAny(idle, _faulted.Task).WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        ThrowIfFaulted();
    }

    /// <summary>Gets a value indicating whether the caller runs inside one of this pool's executors or factories.</summary>
    /// <remarks>
    /// Two marks: <c>t_runnerOf</c> on a synchronous runner's own thread, which holds whatever execution context a call
    /// flows in; and the async-local <c>s_insideExecutorOf</c>, which flows into what the runner's code starts, and into
    /// asynchronous calls (they run in a copy of their caller's context that carries it).
    /// </remarks>
    internal bool IsInsideExecutor => ReferenceEquals(t_runnerOf, this) || ReferenceEquals(s_insideExecutorOf.Value, this);

    /// <summary>Marks the calling worker's flow as inside this pool; everything it calls inherits the mark.</summary>
    internal void EnterWorker() => s_insideExecutorOf.Value = this;

    /// <summary>Marks the calling thread as a synchronous runner of this pool, until <see cref="LeaveRunnerThread"/>.</summary>
    internal void EnterRunnerThread() => t_runnerOf = this;

    /// <summary>The calling runner thread is done with this pool.</summary>
    internal static void LeaveRunnerThread() => t_runnerOf = null;

    private void ThrowIfInsideExecutor(string operation)
    {
        if (IsInsideExecutor)
        {
            throw new InvalidOperationException(
                $"{operation} was called from inside one of this pool's own executors, where it would wait for itself and deadlock. Queue follow-up calls with Invoke, and wait from outside the pool.");
        }
    }

    private static void ValidateTimeout(TimeSpan timeout, string paramName)
    {
        long milliseconds = (long)timeout.TotalMilliseconds;
        if ((milliseconds < 0 && timeout != Timeout.InfiniteTimeSpan) || milliseconds > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(paramName, timeout, "The timeout must be zero or more (or Timeout.InfiniteTimeSpan) and at most int.MaxValue milliseconds.");
        }
    }
}
