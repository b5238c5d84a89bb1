using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Parallelize.Linq;

/// <summary>
/// Maps a sequence through a pool of executors, lazily: the source is read only as fast as the results are consumed
/// (at most a bounded number of inputs ahead), in call order or as results come.
/// </summary>
/// <remarks>
/// <para>Each enumeration runs its own <see cref="Parallelize{TIn, TOut}"/> with results not retained and a bounded
/// queue (<see cref="ParallelizeOptions.BoundedCapacity"/>, by default 256 or twice the number of executors, whichever is
/// more), so memory stays flat however long the source. The source is enumerated on one background thread (or, for an
/// <see cref="IAsyncEnumerable{T}"/>, one asynchronous loop) and handed to the pool in chunks, and results are read in
/// batches, so the hand-off costs little per item while each input is still a call of its own.</para>
/// <para>Faults are retried as the pool does (<see cref="ParallelizeOptions.MaxAttempts"/>); an input that fails for
/// good ends the enumeration with a <see cref="ParallelizeException"/> carrying its exceptions — in call order at
/// its place, unordered as soon as it is seen. An exception from the source ends it with that exception. Leaving
/// the enumeration early, or cancelling it, stops the pool and aborts the calls in flight.</para>
/// </remarks>
public static class ParallelMapExtensions
{
    /// <summary>Maps <paramref name="source"/> through <paramref name="selector"/> on <paramref name="degreeOfParallelism"/> threads.</summary>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="source">The inputs; read lazily, on a background thread.</param>
    /// <param name="selector">The function; each call runs on one of the executors' dedicated threads.</param>
    /// <param name="degreeOfParallelism">How many calls run at once.</param>
    /// <param name="ordered"><see langword="true"/> to yield results in input order; <see langword="false"/> to yield them as they come.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <returns>The results.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> or <paramref name="selector"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="degreeOfParallelism"/> is less than 1.</exception>
    public static IEnumerable<TOut> ParallelMap<TIn, TOut>(
        this IEnumerable<TIn> source,
        Func<TIn, TOut> selector,
        int degreeOfParallelism,
        bool ordered = true,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(selector);
        ArgumentOutOfRangeException.ThrowIfLessThan(degreeOfParallelism, 1);
        return source.ParallelMap(Enumerable.Repeat(Executor.Create(selector), degreeOfParallelism), ordered, null, cancellationToken);
    }

    /// <summary>Maps <paramref name="source"/> through a set of executors.</summary>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="source">The inputs; read lazily, on a background thread.</param>
    /// <param name="executors">The executors, of any kind (see <see cref="Executor{TIn, TOut}"/>).</param>
    /// <param name="ordered"><see langword="true"/> to yield results in input order; <see langword="false"/> to yield them as they come.</param>
    /// <param name="options">Options of the pool; <see cref="ParallelizeOptions.RetainResults"/> and <see cref="ParallelizeOptions.OrderedResults"/> are set by the map.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <returns>The results.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> or <paramref name="executors"/> is <see langword="null"/>.</exception>
    public static IEnumerable<TOut> ParallelMap<TIn, TOut>(
        this IEnumerable<TIn> source,
        IEnumerable<Executor<TIn, TOut>> executors,
        bool ordered = true,
        ParallelizeOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(executors);
        Func<Parallelize<TIn, TOut>, CancellationToken, Task> produce = (pool, token) => Task.Factory.StartNew(
            () =>
            {
                // In chunks, one hand-off each; blocked while the bounded queue is full, and refused once the map stops.
                using CancellationTokenRegistration stop = token.UnsafeRegister(static state => ((Parallelize<TIn, TOut>)state!).Complete(), pool);
                pool.InvokeMany(source);
                token.ThrowIfCancellationRequested();
            },
            token,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        return MapAsync([.. executors], ordered, options, produce, cancellationToken).ToBlockingEnumerable(cancellationToken);
    }

    /// <summary>Maps an asynchronous <paramref name="source"/> through an asynchronous <paramref name="selector"/>, <paramref name="degreeOfParallelism"/> calls at once.</summary>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="source">The inputs; read lazily.</param>
    /// <param name="selector">The function; its token is cancelled when the map is abandoned or cancelled.</param>
    /// <param name="degreeOfParallelism">How many calls run at once.</param>
    /// <param name="ordered"><see langword="true"/> to yield results in input order; <see langword="false"/> to yield them as they come.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <returns>The results.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> or <paramref name="selector"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="degreeOfParallelism"/> is less than 1.</exception>
    public static IAsyncEnumerable<TOut> ParallelMapAsync<TIn, TOut>(
        this IAsyncEnumerable<TIn> source,
        Func<TIn, CancellationToken, ValueTask<TOut>> selector,
        int degreeOfParallelism,
        bool ordered = true,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(selector);
        ArgumentOutOfRangeException.ThrowIfLessThan(degreeOfParallelism, 1);
        return source.ParallelMapAsync(Enumerable.Repeat(Executor.Create(selector), degreeOfParallelism), ordered, null, cancellationToken);
    }

    /// <summary>Maps an asynchronous <paramref name="source"/> through a set of executors.</summary>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <typeparam name="TOut">The type of the results.</typeparam>
    /// <param name="source">The inputs; read lazily.</param>
    /// <param name="executors">The executors, of any kind (see <see cref="Executor{TIn, TOut}"/>).</param>
    /// <param name="ordered"><see langword="true"/> to yield results in input order; <see langword="false"/> to yield them as they come.</param>
    /// <param name="options">Options of the pool; <see cref="ParallelizeOptions.RetainResults"/> and <see cref="ParallelizeOptions.OrderedResults"/> are set by the map.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <returns>The results.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> or <paramref name="executors"/> is <see langword="null"/>.</exception>
    public static IAsyncEnumerable<TOut> ParallelMapAsync<TIn, TOut>(
        this IAsyncEnumerable<TIn> source,
        IEnumerable<Executor<TIn, TOut>> executors,
        bool ordered = true,
        ParallelizeOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(executors);
        Func<Parallelize<TIn, TOut>, CancellationToken, Task> produce = async (pool, token) =>
        {
            // In chunks, and whenever the source makes the producer wait, so a slow source's inputs never wait for a chunk to fill.
            var chunk = new TIn[256];
            int held = 0;
            IAsyncEnumerator<TIn> reader = source.GetAsyncEnumerator(token);
            await using (reader.ConfigureAwait(false))
            {
                while (true)
                {
                    ValueTask<bool> next = reader.MoveNextAsync();
                    if (!next.IsCompleted && held > 0)
                    {
                        await QueueAsync(held).ConfigureAwait(false);
                        held = 0;
                    }

                    if (!await next.ConfigureAwait(false))
                    {
                        break;
                    }

                    chunk[held++] = reader.Current;
                    if (held == chunk.Length)
                    {
                        await QueueAsync(held).ConfigureAwait(false);
                        held = 0;
                    }
                }
            }

            await QueueAsync(held).ConfigureAwait(false);

            async ValueTask QueueAsync(int count)
            {
                if (count > 0 && await pool.InvokeManyAsync(chunk.AsMemory(0, count), token).ConfigureAwait(false) < count)
                {
                    token.ThrowIfCancellationRequested();
                    throw new InvalidOperationException("The map stopped taking inputs.");
                }
            }
        };
        return MapAsync([.. executors], ordered, options, produce, cancellationToken);
    }

    private static async IAsyncEnumerable<TOut> MapAsync<TIn, TOut>(
        List<Executor<TIn, TOut>> executors,
        bool ordered,
        ParallelizeOptions? options,
        Func<Parallelize<TIn, TOut>, CancellationToken, Task> produce,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        options ??= new ParallelizeOptions();
        options = options with
        {
            RetainResults = false,
            OrderedResults = ordered,
            BoundedCapacity = options.BoundedCapacity ?? Math.Max(256, 2 * executors.Count),
        };
        var pool = new Parallelize<TIn, TOut>(executors, options);
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task producer = RunProducerAsync(pool, produce, abandon.Token);
        bool finished = false;
        try
        {
            // Results in batches, as they come: one hand-off per batch.
            var batch = new List<Core.ResultSink<TIn, TOut>.Entry>(256);
            while (await pool.ReadStreamBatchAsync(batch, 256, cancellationToken).ConfigureAwait(false))
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    if (batch[i].Failure is { } failure)
                    {
                        throw new ParallelizeException(
                            $"An input failed {failure.Attempts} time(s), so the map cannot produce its result: {failure.Exceptions[^1].Message}",
                            failure.Exceptions);
                    }

                    ThrowIfSourceFailed(producer);
                    yield return batch[i].Output;
                }

                batch.Clear();
            }

            await producer.ConfigureAwait(false);
            finished = true;
        }
        finally
        {
            try
            {
                if (!finished)
                {
                    // Abandoned, cancelled or failed: abort what is still running and let the producer see the stop.
                    await abandon.CancelAsync().ConfigureAwait(false);
                    await pool.StopAsync(TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
                    try
                    {
                        await producer.ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException)
                    {
                        // The producer ends by being refused or cancelled; its own failure, if any, was already reported.
                    }
                }
            }
            finally
            {
                await pool.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task RunProducerAsync<TIn, TOut>(
        Parallelize<TIn, TOut> pool,
        Func<Parallelize<TIn, TOut>, CancellationToken, Task> produce,
        CancellationToken cancellationToken)
    {
        try
        {
            await produce(pool, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Whether the source ended or failed, no more calls come: the result stream can end.
            pool.Complete();
        }
    }

    private static void ThrowIfSourceFailed(Task producer)
    {
        if (producer.IsFaulted)
        {
            ExceptionDispatchInfo.Throw(producer.Exception!.InnerException!);
        }
    }
}
