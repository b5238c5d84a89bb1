using Parallelize.Core;

namespace Parallelize;

// What the pool offers its workers. Every member here is called from worker threads without any lock held, and
// none of them calls user code.
public sealed partial class Parallelize<TIn, TOut>
{
    internal WorkQueue<TIn> Queue => _queue;

    internal ResultSink<TIn, TOut> Sink => _sink;

    /// <summary>Gets the exceptions of calls whose attempts failed.</summary>
    internal CallHistories Histories { get; } = new();

    /// <summary>Gets the token calls receive: cancelled when <c>Stop</c> gives up waiting for calls in flight.</summary>
    internal CancellationToken CallToken => _callsCancelled.Token;

    /// <summary>Gets the token factories and restart backoff receive: cancelled as soon as <c>Stop</c> begins.</summary>
    internal CancellationToken StopToken => _stopRequested.Token;

    internal bool IsStopRequested => _stopRequested.IsCancellationRequested;

    /// <summary>Gets a task that completes when every worker has ended (tests use it to observe late outcomes).</summary>
    internal Task WorkersExited => _workersExited.Task;

    /// <summary>Gets how many executor disposals (or token callbacks during Stop) threw; they are swallowed so the pool goes on.</summary>
    internal long DisposeFaults => Interlocked.Read(ref _disposeFaults);

    /// <summary>Records calls that can have no further attempt because the pool is stopping; <c>Stop</c> reports them.</summary>
    internal void AbortLate(ReadOnlySpan<QueuedCall<TIn>> calls)
    {
        if (calls.IsEmpty)
        {
            return;
        }

        lock (_stateLock)
        {
            _abortedLate.AddRange(calls);
        }

        Interlocked.Add(ref _aborted, calls.Length);
    }

    /// <summary>Delivers a call that used up its attempts to <c>Failures</c>, then logs it.</summary>
    internal void DeliverFailure(in QueuedCall<TIn> call)
    {
        Failure<TIn> failure = _sink.DeliverFailure(call);
        if (_telemetry.Logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Warning))
        {
            _telemetry.OnFailure(call.Sequence, failure.Attempts, failure.Exceptions.Count > 0 ? failure.Exceptions[^1] : null);
        }
    }

    /// <summary>Counts a restart of executor <paramref name="executorIndex"/>, which threw <paramref name="cause"/>, and logs it.</summary>
    internal void OnRestart(int executorIndex, Exception cause) =>
        _telemetry.OnRestart(executorIndex, cause, Interlocked.Increment(ref _restarts));

    internal void OnRetry() => Interlocked.Increment(ref _retries);

    internal void OnDisposeFault() => Interlocked.Increment(ref _disposeFaults);

    internal void OnWorkerRetired(Worker<TIn, TOut> retired)
    {
        int live = Interlocked.Decrement(ref _liveWorkers);
        _telemetry.OnRetired(retired.Index, retired.LastError, live);
        if (live != 0)
        {
            return;
        }

        var causes = new List<Exception>(_workers.Length);
        foreach (Worker<TIn, TOut> worker in _workers)
        {
            if (worker.LastError is { } error)
            {
                causes.Add(error);
            }
        }

        ParallelizeException fault;
        lock (_stateLock)
        {
            fault = _fault ??= new ParallelizeException(
                $"Every executor of the pool ({_workers.Length}) has been retired by the restart policy, so the calls still queued cannot run; Stop returns them.",
                causes);
        }

        _faulted.TrySetResult();

        // No call can run any more: refuse new ones, release callers blocked on a full queue (they now get the
        // fault's refusal), and end the result stream with the fault instead of leaving its readers waiting.
        _queue.CompleteAdding();
        CancelQuietly(_noMoreCalls);
        _sink.Fault(fault);
        _telemetry.OnFaulted(fault, _workers.Length);
    }

    internal void OnWorkerExited()
    {
        if (Interlocked.Decrement(ref _runningWorkers) == 0)
        {
            _workersExited.TrySetResult();
        }
    }

    /// <summary>Lets go of one use of an executor instance given directly to the pool.</summary>
    /// <returns><see langword="true"/> if it was the last use of a disposable instance: the caller disposes it.</returns>
    internal bool ReleaseShared(object instance)
    {
        lock (_stateLock)
        {
            if (!_sharedInstances.TryGetValue(instance, out int uses))
            {
                return false;
            }

            if (uses > 1)
            {
                _sharedInstances[instance] = uses - 1;
                return false;
            }

            _sharedInstances.Remove(instance);
            return true;
        }
    }
}
