using System.Collections.Concurrent;
using Parallelize.Collections;

namespace Parallelize.Core;

/// <summary>
/// The background collector: workers hand it finished calls; it appends them to <c>Results</c> or
/// <c>Failures</c>, in completion order, and then counts them as ended.
/// </summary>
/// <remarks>
/// <para>Workers only enqueue to a lock-free queue and, if the collector is not already scheduled, schedule it
/// on the thread pool. <c>_scheduled</c> is 1 from the moment a worker schedules the collector until the
/// collector has found the queue empty and cleared it; the collector re-checks the queue after clearing, so a
/// completion enqueued in between is never stranded. At most one collector runs at a time, which makes it the
/// single writer that <see cref="AppendOnlyList{T}"/> requires.</para>
/// <para>A call is counted as ended only after it is visible in <c>Results</c> or <c>Failures</c>, so
/// <c>Wait</c> never returns before the lists hold everything it waited for. The collector runs no user code.</para>
/// </remarks>
internal sealed class ResultCollector<TIn, TOut> : IThreadPoolWorkItem
{
    private readonly ConcurrentQueue<Completion> _completions = new();
    private readonly PendingTracker _pending;
    private int _scheduled;

    public ResultCollector(PendingTracker pending) => _pending = pending;

    /// <summary>Gets the results, in completion order.</summary>
    public AppendOnlyList<TOut> Results { get; } = new();

    /// <summary>Gets the failures, in the order the inputs failed.</summary>
    public AppendOnlyList<Failure<TIn>> Failures { get; } = new();

    /// <summary>Hands over a successful call.</summary>
    /// <param name="item">The item; the caller has claimed it.</param>
    /// <param name="output">Its result.</param>
    public void AddResult(WorkItem<TIn> item, TOut output)
    {
        _completions.Enqueue(new Completion(item, output, failed: false));
        Schedule();
    }

    /// <summary>Hands over an input that used up its attempts.</summary>
    /// <param name="item">The item; the caller has claimed it.</param>
    public void AddFailure(WorkItem<TIn> item)
    {
        _completions.Enqueue(new Completion(item, default!, failed: true));
        Schedule();
    }

    /// <inheritdoc/>
    public void Execute()
    {
        do
        {
            long ended = 0;
            while (_completions.TryDequeue(out Completion completion))
            {
                if (completion.Failed)
                {
                    WorkItem<TIn> item = completion.Item;
                    Failures.Add(new Failure<TIn>(item.Input, item.Attempts, item.Errors?.ToArray() ?? []));
                }
                else
                {
                    Results.Add(completion.Output);
                }

                ended++;
            }

            _pending.Remove(ended);
            // A full fence: the emptiness check below must not move above this write (see remarks).
            Interlocked.Exchange(ref _scheduled, 0);
        }
        while (!_completions.IsEmpty && Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0);
    }

    private void Schedule()
    {
        if (Volatile.Read(ref _scheduled) == 0 && Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    private readonly struct Completion(WorkItem<TIn> item, TOut output, bool failed)
    {
        public WorkItem<TIn> Item { get; } = item;

        public TOut Output { get; } = output;

        public bool Failed { get; } = failed;
    }
}
