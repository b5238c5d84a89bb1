using System.Threading.Channels;
using System.Threading.Tasks.Dataflow;

namespace Parallelize.Benchmarks;

/// <summary>
/// The contenders: each runs the same work once per input 0..calls-1 from one producer (the calling thread) and
/// returns when every result is in its collection, with its workers finished or idle. Each is written the way a
/// competent .NET developer would write it: no strawmen. The quick mode and the BenchmarkDotNet classes share them.
/// </summary>
internal static class Contenders
{
    public const string PlainLoopName = "plain loop";
    public const string ParallelForName = "Parallel.For";
    public const string DataflowName = "Dataflow";
    public const string ChannelsName = "Channels";
    public const string ParallelizeName = "Parallelize";

    /// <summary>The contenders in table order.</summary>
    public static readonly IReadOnlyList<string> Names = [PlainLoopName, ParallelForName, DataflowName, ChannelsName, ParallelizeName];

    /// <summary>One core, no coordination at all: the single-core limit.</summary>
    public static long[] PlainLoop(Func<long, long> work, int calls)
    {
        long[] results = new long[calls];
        for (int i = 0; i < results.Length; i++)
        {
            results[i] = work(i);
        }

        return results;
    }

    /// <summary><see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/> into a preallocated array: no queue and no collector, since the inputs are an index range known up front.</summary>
    public static long[] ParallelFor(Func<long, long> work, int calls, int degree)
    {
        long[] results = new long[calls];
        Parallel.For(0, calls, new ParallelOptions { MaxDegreeOfParallelism = degree }, i => results[i] = work(i));
        return results;
    }

    /// <summary>
    /// A <see cref="TransformBlock{TInput, TOutput}"/> (degree <paramref name="degree"/>, unordered, one producer)
    /// whose outputs are drained by one loop that takes everything available each time it wakes: cheaper than
    /// linking a second block, which costs a message offer and a lock per item.
    /// </summary>
    public static List<long> Dataflow(Func<long, long> work, int calls, int degree) =>
        RunDataflow(new TransformBlock<long, long>(work, DataflowOptions(degree)), calls);

    /// <summary>The asynchronous form of <see cref="Dataflow(Func{long, long}, int, int)"/>.</summary>
    public static List<long> Dataflow(Func<long, Task<long>> work, int calls, int degree) =>
        RunDataflow(new TransformBlock<long, long>(work, DataflowOptions(degree)), calls);

    /// <summary>
    /// A hand-written worker pool: an unbounded input channel read by <paramref name="workers"/> tasks, each writing
    /// its results to an unbounded result channel that one collector drains into a list; completion flows from the
    /// input channel through the workers to the collector.
    /// </summary>
    public static List<long> Channels(Func<long, long> work, int calls, int workers) =>
        RunChannels(calls, workers, async (reader, writer) =>
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out long input))
                {
                    writer.TryWrite(work(input));
                }
            }
        });

    /// <summary>The asynchronous form of <see cref="Channels(Func{long, long}, int, int)"/>.</summary>
    public static List<long> Channels(Func<long, Task<long>> work, int calls, int workers) =>
        RunChannels(calls, workers, async (reader, writer) =>
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out long input))
                {
                    writer.TryWrite(await work(input).ConfigureAwait(false));
                }
            }
        });

    /// <summary>The library with default options: <paramref name="executors"/> executors, one <c>Invoke</c> per input, <c>Wait</c>, results in <c>Results</c>.</summary>
    public static IReadOnlyList<long> Parallelize(Func<long, long> work, int calls, int executors)
    {
        using var pool = new Parallelize<long, long>(work, count: executors);
        return RunParallelize(pool, calls);
    }

    /// <summary>The asynchronous form of <see cref="Parallelize(Func{long, long}, int, int)"/>: an asynchronous executor function.</summary>
    public static IReadOnlyList<long> Parallelize(Func<long, Task<long>> work, int calls, int executors)
    {
        using var pool = new Parallelize<long, long>((x, _) => new ValueTask<long>(work(x)), count: executors);
        return RunParallelize(pool, calls);
    }

    /// <summary>What stands for <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/> with asynchronous work: <see cref="Parallel.ForEachAsync{TSource}(IEnumerable{TSource}, ParallelOptions, Func{TSource, CancellationToken, ValueTask})"/> into a preallocated array.</summary>
    public static long[] ParallelForEachAsync(Func<long, Task<long>> work, int calls, int degree)
    {
        long[] results = new long[calls];
        Parallel.ForEachAsync(
                Enumerable.Range(0, calls),
                new ParallelOptions { MaxDegreeOfParallelism = degree },
                async (i, _) => results[i] = await work(i).ConfigureAwait(false))
            .GetAwaiter().GetResult();
        return results;
    }

    private static ExecutionDataflowBlockOptions DataflowOptions(int degree) => new()
    {
        MaxDegreeOfParallelism = degree,
        EnsureOrdered = false,
        SingleProducerConstrained = true,
    };

    private static List<long> RunDataflow(TransformBlock<long, long> block, int calls)
    {
        var results = new List<long>(calls);
        Task collector = Task.Run(async () =>
        {
            while (await block.OutputAvailableAsync().ConfigureAwait(false))
            {
                if (block.TryReceiveAll(out IList<long>? batch))
                {
                    results.AddRange(batch);
                }
            }
        });
        for (long i = 0; i < calls; i++)
        {
            if (!block.Post(i))
            {
                throw new InvalidOperationException("The transform block declined an input.");
            }
        }

        block.Complete();
        collector.GetAwaiter().GetResult();
        block.Completion.GetAwaiter().GetResult(); // rethrows a fault of the work
        return results;
    }

    private static List<long> RunChannels(int calls, int workers, Func<ChannelReader<long>, ChannelWriter<long>, Task> worker)
    {
        var inputs = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleWriter = true });
        var outputs = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true });
        var results = new List<long>(calls);
        Task collector = Task.Run(async () =>
        {
            ChannelReader<long> reader = outputs.Reader;
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out long result))
                {
                    results.Add(result);
                }
            }
        });
        var tasks = new Task[workers];
        for (int w = 0; w < tasks.Length; w++)
        {
            tasks[w] = Task.Run(() => worker(inputs.Reader, outputs.Writer));
        }

        ChannelWriter<long> writer = inputs.Writer;
        for (long i = 0; i < calls; i++)
        {
            if (!writer.TryWrite(i))
            {
                throw new InvalidOperationException("The input channel declined an input.");
            }
        }

        writer.Complete();
        try
        {
            Task.WaitAll(tasks);
        }
        finally
        {
            outputs.Writer.Complete();
        }

        collector.GetAwaiter().GetResult();
        return results;
    }

    private static IReadOnlyList<long> RunParallelize(Parallelize<long, long> pool, int calls)
    {
        for (long i = 0; i < calls; i++)
        {
            pool.Invoke(i);
        }

        pool.Wait();
        return pool.Results;
    }
}
