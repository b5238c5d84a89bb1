using Parallelize.Pipelines;

namespace Parallelize.Pipelines;

/// <summary>
/// A pipeline under construction whose last stage produces items of type <typeparamref name="T"/>. Each method
/// returns a new builder; nothing runs until a final stage (<c>ForEach</c> or <c>Reduce</c>) is called. A builder
/// can be run more than once, each run reading its source afresh.
/// </summary>
/// <typeparam name="T">The type of the items the pipeline produces so far.</typeparam>
public sealed class PipelineBuilder<T>
{
    /// <summary>The capacity of each stage's queue, and of the final stage's buffer.</summary>
    internal const int DefaultCapacity = 1024;

    private readonly PipelineSource _source;
    private readonly Func<object, RunningStage>[] _stages;

    internal PipelineBuilder(PipelineSource source, Func<object, RunningStage>[] stages)
    {
        _source = source;
        _stages = stages;
    }

    /// <summary>Adds a stage that maps each item through <paramref name="selector"/>, <paramref name="degreeOfParallelism"/> calls at once, each synchronous executor on its own thread.</summary>
    /// <typeparam name="TNext">The type of the stage's outputs.</typeparam>
    /// <param name="selector">The function.</param>
    /// <param name="degreeOfParallelism">How many calls run at once.</param>
    /// <param name="ordered"><see langword="true"/> to pass outputs on in input order; <see langword="false"/> (the default) as they come.</param>
    /// <param name="name">The stage's name in reports; by default its position and kind.</param>
    /// <returns>The extended pipeline.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="selector"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="degreeOfParallelism"/> is less than 1.</exception>
    public PipelineBuilder<TNext> Then<TNext>(Func<T, TNext> selector, int degreeOfParallelism, bool ordered = false, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(selector);
        ArgumentOutOfRangeException.ThrowIfLessThan(degreeOfParallelism, 1);
        return Then(Enumerable.Repeat(Executor.Create(selector), degreeOfParallelism), ordered, null, name);
    }

    /// <summary>Adds a stage that maps each item through an asynchronous <paramref name="selector"/>, <paramref name="degreeOfParallelism"/> calls at once.</summary>
    /// <typeparam name="TNext">The type of the stage's outputs.</typeparam>
    /// <param name="selector">The function; its token is cancelled when the pipeline is stopped.</param>
    /// <param name="degreeOfParallelism">How many calls run at once.</param>
    /// <param name="ordered"><see langword="true"/> to pass outputs on in input order; <see langword="false"/> (the default) as they come.</param>
    /// <param name="name">The stage's name in reports; by default its position and kind.</param>
    /// <returns>The extended pipeline.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="selector"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="degreeOfParallelism"/> is less than 1.</exception>
    public PipelineBuilder<TNext> Then<TNext>(Func<T, CancellationToken, ValueTask<TNext>> selector, int degreeOfParallelism, bool ordered = false, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(selector);
        ArgumentOutOfRangeException.ThrowIfLessThan(degreeOfParallelism, 1);
        return Then(Enumerable.Repeat(Executor.Create(selector), degreeOfParallelism), ordered, null, name);
    }

    /// <summary>Adds a stage that maps each item through a set of executors of any kind.</summary>
    /// <typeparam name="TNext">The type of the stage's outputs.</typeparam>
    /// <param name="executors">The executors (see <see cref="Executor{TIn, TOut}"/>).</param>
    /// <param name="ordered"><see langword="true"/> to pass outputs on in input order; <see langword="false"/> (the default) as they come.</param>
    /// <param name="options">Options of the stage's pool (attempts, restarts, capacity); <see cref="ParallelizeOptions.RetainResults"/> and <see cref="ParallelizeOptions.OrderedResults"/> are set by the stage. The capacity defaults to 1,024.</param>
    /// <param name="name">The stage's name in reports; by default its position and kind.</param>
    /// <returns>The extended pipeline.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="executors"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="executors"/> is empty or holds a <see langword="null"/>.</exception>
    public PipelineBuilder<TNext> Then<TNext>(IEnumerable<Executor<T, TNext>> executors, bool ordered = false, ParallelizeOptions? options = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(executors);
        List<Executor<T, TNext>> list = [.. executors];
        if (list.Count == 0 || list.Contains(null!))
        {
            throw new ArgumentException("A stage needs at least one executor, and no null ones.", nameof(executors));
        }

        ParallelizeOptions stageOptions = StageOptions(options) with { OrderedResults = ordered };
        string stageName = name ?? $"{_stages.Length + 1}: Then";
        return Add<TNext>(next => new MapStage<T, TNext>(stageName, list, stageOptions, (IStageSink<TNext>)next));
    }

    /// <summary>
    /// Adds a stage that expands each item into many — for example a file into its rows — <paramref name="degreeOfParallelism"/>
    /// items at once. Each output is passed on as soon as it is produced, from the executor's own thread, so outputs of
    /// different items interleave and a large item is never held in memory whole.
    /// </summary>
    /// <typeparam name="TNext">The type of the stage's outputs.</typeparam>
    /// <param name="selector">The expansion; enumerated on the executor's thread.</param>
    /// <param name="degreeOfParallelism">How many items are expanded at once.</param>
    /// <param name="name">The stage's name in reports; by default its position and kind.</param>
    /// <returns>The extended pipeline.</returns>
    /// <remarks>An item is tried once: after a fault its first outputs have been passed on already, so a retry would repeat them. It goes to the stage's failures instead.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="selector"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="degreeOfParallelism"/> is less than 1.</exception>
    public PipelineBuilder<TNext> ThenMany<TNext>(Func<T, IEnumerable<TNext>> selector, int degreeOfParallelism, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(selector);
        ArgumentOutOfRangeException.ThrowIfLessThan(degreeOfParallelism, 1);
        ParallelizeOptions stageOptions = StageOptions(null) with { MaxAttempts = 1 };
        string stageName = name ?? $"{_stages.Length + 1}: ThenMany";
        return Add<TNext>(next => new ManyStage<T, TNext>(stageName, selector, degreeOfParallelism, stageOptions, (IStageSink<TNext>)next));
    }

    /// <summary>
    /// Runs the pipeline, handing every item the last stage produces to <paramref name="action"/>, one at a time, on the
    /// calling thread; blocks until the source is exhausted and every stage has finished, or the run is cancelled.
    /// </summary>
    /// <param name="action">The final sequential stage.</param>
    /// <param name="cancellationToken">Stops every stage, first to last; the result then reports what each aborted.</param>
    /// <returns>The number of items consumed, and a report per stage.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="action"/> is <see langword="null"/>.</exception>
    public PipelineResult<long> ForEach(Action<T> action, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(action);
        return Completed(RunAsync(0L, (count, item) =>
        {
            action(item);
            return count + 1;
        }, sync: true, cancellationToken));
    }

    /// <summary>Runs the pipeline like <see cref="ForEach"/> without blocking a thread; <paramref name="action"/> still sees one item at a time.</summary>
    /// <param name="action">The final sequential stage.</param>
    /// <param name="cancellationToken">Stops every stage, first to last.</param>
    /// <returns>The number of items consumed, and a report per stage.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="action"/> is <see langword="null"/>.</exception>
    public Task<PipelineResult<long>> ForEachAsync(Action<T> action, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(action);
        return RunAsync(0L, (count, item) =>
        {
            action(item);
            return count + 1;
        }, sync: false, cancellationToken);
    }

    /// <summary>
    /// Runs the pipeline, folding every item the last stage produces into an accumulator, one at a time, on the calling
    /// thread; blocks until the source is exhausted and every stage has finished, or the run is cancelled.
    /// </summary>
    /// <typeparam name="TAccumulate">The type of the accumulator.</typeparam>
    /// <param name="seed">The initial accumulator.</param>
    /// <param name="reducer">The final sequential stage: the accumulator so far and the next item, to the next accumulator.</param>
    /// <param name="cancellationToken">Stops every stage, first to last; the result then reports what each aborted.</param>
    /// <returns>The final accumulator, and a report per stage.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="reducer"/> is <see langword="null"/>.</exception>
    public PipelineResult<TAccumulate> Reduce<TAccumulate>(TAccumulate seed, Func<TAccumulate, T, TAccumulate> reducer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reducer);
        return Completed(RunAsync(seed, reducer, sync: true, cancellationToken));
    }

    /// <summary>Runs the pipeline like <see cref="Reduce{TAccumulate}"/> without blocking a thread; the reducer still sees one item at a time.</summary>
    /// <typeparam name="TAccumulate">The type of the accumulator.</typeparam>
    /// <param name="seed">The initial accumulator.</param>
    /// <param name="reducer">The final sequential stage.</param>
    /// <param name="cancellationToken">Stops every stage, first to last.</param>
    /// <returns>The final accumulator, and a report per stage.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="reducer"/> is <see langword="null"/>.</exception>
    public Task<PipelineResult<TAccumulate>> ReduceAsync<TAccumulate>(TAccumulate seed, Func<TAccumulate, T, TAccumulate> reducer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reducer);
        return RunAsync(seed, reducer, sync: false, cancellationToken);
    }

    private static ParallelizeOptions StageOptions(ParallelizeOptions? options)
    {
        options ??= new ParallelizeOptions();
        return options with { RetainResults = false, BoundedCapacity = options.BoundedCapacity ?? DefaultCapacity };
    }

    private static TResult Completed<TResult>(Task<TResult> run) => run.GetAwaiter().GetResult();

    private PipelineBuilder<TNext> Add<TNext>(Func<object, RunningStage> stage) => new(_source, [.. _stages, stage]);

    private async Task<PipelineResult<TAccumulate>> RunAsync<TAccumulate>(
        TAccumulate seed,
        Func<TAccumulate, T, TAccumulate> reducer,
        bool sync,
        CancellationToken cancellationToken)
    {
        var final = new FinalStage<T>($"{_stages.Length + 1}: final", DefaultCapacity);
        var stages = new List<RunningStage>(_stages.Length + 1) { final };
        object sink = final;
        for (int i = _stages.Length - 1; i >= 0; i--)
        {
            RunningStage stage = _stages[i](sink);
            stages.Insert(0, stage);
            sink = stage;
        }

        using var stop = new CancellationTokenSource();
        Task? stopping = null;
        var stopLock = new Lock();
        void StopAll()
        {
            lock (stopLock)
            {
                stopping ??= Task.Run(
                    async () =>
                    {
                        // First to last: a stage stops only after the one feeding it, so nothing it refuses is lost.
                        await stop.CancelAsync().ConfigureAwait(false);
                        foreach (RunningStage stage in stages)
                        {
                            await stage.StopAsync().ConfigureAwait(false);
                        }
                    },
                    CancellationToken.None);
            }
        }

        TAccumulate accumulator = seed;
        Exception? failure = null;
        Task feeding = _source.FeedAsync(sink, stop.Token);

        // A stage whose executors have all been retired can run nothing more: stop the whole pipeline.
        string? faultedStage = null;
        foreach (RunningStage stage in stages)
        {
            _ = stage.Finished.ContinueWith(
                _ =>
                {
                    Interlocked.CompareExchange(ref faultedStage, stage.Name, null);
                    StopAll();
                },
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted,
                TaskScheduler.Default);
        }

        using (cancellationToken.Register(StopAll))
        {
            try
            {
                // In synchronous mode this runs the reducer to the end right here, on the calling thread.
                await final.ConsumeAsync(item => accumulator = reducer(accumulator, item), sync).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                failure = ex;
                StopAll();
            }

            try
            {
                await feeding.ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                failure ??= ex;
                StopAll();
            }

            try
            {
                await Task.WhenAll(stages.Select(s => s.Finished)).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                failure ??= ex;
            }
        }

        Task? stopped;
        lock (stopLock)
        {
            stopped = stopping;
        }

        if (stopped is not null)
        {
            await stopped.ConfigureAwait(false);
        }

        var reports = stages.Select(s => s.Report()).ToList();
        foreach (RunningStage stage in stages)
        {
            await stage.DisposeAsync().ConfigureAwait(false);
        }

        if (failure is ParallelizeException cannotRun)
        {
            // Said of the stage, with every stage's report: a pipeline that throws returns no result to read them from.
            throw cannotRun.ForStage(Volatile.Read(ref faultedStage) ?? "?", reports);
        }

        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }

        return new PipelineResult<TAccumulate>(accumulator, stopped is not null, reports);
    }
}
