using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Parallelize.Core;

namespace Parallelize;

public sealed partial class Parallelize<TIn, TOut>
{
    private int _streamReaders;

    /// <summary>
    /// Reads finished calls — each input with its result — as they are delivered, while the pool runs. The stream
    /// ends once no more calls can come (<see cref="Complete"/>, <see cref="Dispose"/> or <see cref="Stop(TimeSpan?)"/>)
    /// and every call made has ended; failures are in <see cref="Failures"/>.
    /// </summary>
    /// <param name="cancellationToken">Cancels the reading (not the calls).</param>
    /// <returns>The finished calls, in delivery order (call order with <see cref="ParallelizeOptions.OrderedResults"/>).</returns>
    /// <remarks>
    /// <para>With <see cref="ParallelizeOptions.RetainResults"/> on (the default) the stream replays
    /// <see cref="Results"/> from its start and follows it; any number of readers may read at once.</para>
    /// <para>With it off, the stream is where results end: each result is delivered once, to one reader at a time,
    /// and on a bounded pool the reader's pace holds back the workers and, through the full queue, the callers.</para>
    /// </remarks>
    /// <exception cref="InvalidOperationException">Results are not retained and another reader is reading.</exception>
    /// <exception cref="ParallelizeException">The pool is faulted (every executor retired) with calls still queued: the stream ends with the fault after what was delivered.</exception>
    public IAsyncEnumerable<CallResult<TIn, TOut>> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        if (_sink.Stream is not null)
        {
            return ReadStreamAsync(cancellationToken);
        }

        return ReadRetainedAsync(cancellationToken);
    }

    /// <summary>Reads the result stream of a pool that does not retain results, failures included at their place.</summary>
    /// <returns>Each delivered call: a result, or a failure (<see cref="Failure{TIn}"/> set).</returns>
    internal async IAsyncEnumerable<(CallResult<TIn, TOut> Result, Failure<TIn>? Failure)> ReadStreamWithFailuresAsync(
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ChannelReader<ResultSink<TIn, TOut>.Entry> stream = _sink.Stream!;
        EnterSingleReader();
        try
        {
            while (await stream.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (stream.TryRead(out ResultSink<TIn, TOut>.Entry entry))
                {
                    if (entry.Failure is { } failure)
                    {
                        // Its slot was given back when it was delivered to Failures.
                        yield return (default, failure);
                        continue;
                    }

                    ReleaseSlot(_slots is not null);
                    yield return (new CallResult<TIn, TOut>(entry.Input, entry.Output), null);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _streamReaders, 0);
        }
    }

    /// <summary>
    /// Reads the result stream of a pool that does not retain results in batches: waits for at least one delivered call,
    /// then takes every delivered call up to <paramref name="max"/> without waiting (pipelines and <c>ParallelMap</c> hand
    /// items on this way, so the hand-off costs little per item). The caller must be the stream's only reader.
    /// </summary>
    /// <param name="into">Receives results (a failure: <see cref="ResultSink{TIn, TOut}.Entry.Failure"/> set), after whatever it holds.</param>
    /// <param name="max">The most calls to take.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns><see langword="false"/> once the stream has ended and nothing was taken.</returns>
    internal async ValueTask<bool> ReadStreamBatchAsync(List<ResultSink<TIn, TOut>.Entry> into, int max, CancellationToken cancellationToken)
    {
        ChannelReader<ResultSink<TIn, TOut>.Entry> stream = _sink.Stream!;
        int before = into.Count;
        while (true)
        {
            while (into.Count - before < max && stream.TryRead(out ResultSink<TIn, TOut>.Entry entry))
            {
                if (entry.Failure is null)
                {
                    // The reader gives the result's slot back as it takes it (a failure's went back when delivered).
                    ReleaseSlot(_slots is not null);
                }

                into.Add(entry);
            }

            if (into.Count > before)
            {
                return true;
            }

            if (!await stream.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return false;
            }
        }
    }

    /// <summary>Reads the results as they are delivered, like <see cref="ReadAllAsync"/> without the inputs.</summary>
    /// <param name="cancellationToken">Cancels the reading (not the calls).</param>
    /// <returns>The results.</returns>
    /// <exception cref="InvalidOperationException">Results are not retained and another reader is reading.</exception>
    public async IAsyncEnumerable<TOut> ReadResultsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (CallResult<TIn, TOut> completion in ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return completion.Output;
        }
    }

    /// <summary>
    /// Reads finished calls like <see cref="ReadAllAsync"/>, blocking the calling thread between them: the
    /// <c>results</c> iterator of the original, which blocks until the run finishes.
    /// </summary>
    /// <returns>The finished calls.</returns>
    /// <exception cref="InvalidOperationException">Results are not retained and another reader is reading, or called from inside one of this pool's own executors.</exception>
    public IEnumerable<CallResult<TIn, TOut>> ReadAll()
    {
        ThrowIfInsideExecutor(nameof(ReadAll));
        return ReadAllAsync().ToBlockingEnumerable();
    }

    /// <summary>Reads the results like <see cref="ReadAll"/>, blocking between them, without the inputs.</summary>
    /// <returns>The results.</returns>
    /// <exception cref="InvalidOperationException">Results are not retained and another reader is reading, or called from inside one of this pool's own executors.</exception>
    public IEnumerable<TOut> ReadResults()
    {
        foreach (CallResult<TIn, TOut> completion in ReadAll())
        {
            yield return completion.Output;
        }
    }

    /// <summary>Gets a value indicating whether the result stream has ended: no call can come and every call has ended.</summary>
    private bool StreamEnded => _noMoreCalls.IsCancellationRequested && _pending.Count == 0;

    private async IAsyncEnumerable<CallResult<TIn, TOut>> ReadRetainedAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Collections.AppendOnlyList<CallResult<TIn, TOut>> completions = _sink.CallResults!;
        int next = 0;
        while (true)
        {
            // Take the pulse before looking, so a delivery after the look wakes the wait below.
            Task pulse = _sink.NextPulse;
            bool ended = StreamEnded;
            bool faulted = _sink.DeliveredFault is not null;
            int count = completions.Count;
            while (next < count)
            {
                yield return completions[next++];
            }

            if (ended)
            {
                yield break;
            }

            // A faulted pool runs no more calls: once what came before the fault has been read, the stream ends with
            // the fault rather than waiting for ever.
            if (faulted)
            {
                ThrowIfFaulted();
            }

            await pulse.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async IAsyncEnumerable<CallResult<TIn, TOut>> ReadStreamAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach ((CallResult<TIn, TOut> result, Failure<TIn>? failure) in ReadStreamWithFailuresAsync(cancellationToken).ConfigureAwait(false))
        {
            if (failure is null)
            {
                yield return result;
            }
        }
    }

    private void EnterSingleReader()
    {
        if (Interlocked.Exchange(ref _streamReaders, 1) != 0)
        {
            throw new InvalidOperationException(
                "Results are not retained (RetainResults is off), so the result stream has a single reader, and another reader is reading it.");
        }
    }
}
