using System.Threading.Channels;

namespace Parallelize.Pipelines;

/// <summary>Where a stage (or the source) sends its items: the next stage's pool, or the final sequential stage.</summary>
/// <remarks>
/// <para>A sink never throws because it is stopped: an item it can no longer take is recorded as aborted <em>by it</em>, so
/// every item that left one stage is accounted for by the next.</para>
/// <para>Items are handed on in batches (<see cref="PostMany"/>, <see cref="PostManyAsync"/>) of up to
/// <see cref="Batch"/>: one acquisition of the next pool's queue per batch, so a hand-off costs little per item, while
/// each item is still a call of its own — retried, failed and aborted alone.</para>
/// </remarks>
internal interface IStageSink<T>
{
    /// <summary>The largest batch handed from one stage to the next.</summary>
    const int Batch = 256;

    /// <summary>Sends one item, blocking while the sink is full.</summary>
    void Post(T item);

    /// <summary>Sends one item, waiting without a thread while the sink is full.</summary>
    ValueTask PostAsync(T item);

    /// <summary>Sends items in order, blocking while the sink is full.</summary>
    void PostMany(ReadOnlySpan<T> items);

    /// <summary>Sends items in order, waiting without a thread while the sink is full.</summary>
    ValueTask PostManyAsync(ReadOnlyMemory<T> items);

    /// <summary>Says that no more items will come.</summary>
    void Complete();
}

/// <summary>One running stage of a pipeline, as the runner sees it.</summary>
internal abstract class RunningStage(string name) : IAsyncDisposable
{
    private long _completed;

    public string Name { get; } = name;

    /// <summary>Gets a task that completes once the stage has passed on everything and completed its sink.</summary>
    public abstract Task Finished { get; }

    /// <summary>Stops the stage at once, aborting its queued and running inputs.</summary>
    public abstract Task StopAsync();

    public abstract StageReport Report();

    public abstract ValueTask DisposeAsync();

    protected long Succeeded => Interlocked.Read(ref _completed);

    protected void CountCompleted() => Interlocked.Increment(ref _completed);

    protected void CountCompleted(int count) => Interlocked.Add(ref _completed, count);
}

/// <summary>A running stage whose inputs are <typeparamref name="TIn"/>: it keeps the items it refused (they came after it stopped).</summary>
internal abstract class RunningStage<TIn>(string name) : RunningStage(name)
{
    private readonly Lock _lock = new();
    private readonly List<TIn> _refused = [];

    protected void Refuse(TIn item)
    {
        lock (_lock)
        {
            _refused.Add(item);
        }
    }

    protected List<TIn> Refused()
    {
        lock (_lock)
        {
            return [.. _refused];
        }
    }
}

/// <summary>A stage that runs its inputs through a pool: what the map and the expanding stages share.</summary>
internal abstract class PoolStage<TIn, TPoolOut>(string name) : RunningStage<TIn>(name), IStageSink<TIn>
{
    private IReadOnlyList<TIn> _aborted = [];

    protected abstract Parallelize<TIn, TPoolOut> Pool { get; }

    public void Post(TIn item)
    {
        try
        {
            Pool.Invoke(item);
        }
        catch (InvalidOperationException)
        {
            Refuse(item);
        }
    }

    public async ValueTask PostAsync(TIn item)
    {
        try
        {
            await Pool.InvokeAsync(item).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            Refuse(item);
        }
    }

    public void PostMany(ReadOnlySpan<TIn> items)
    {
        int accepted;
        try
        {
            accepted = Pool.InvokeMany(items);
        }
        catch (InvalidOperationException)
        {
            accepted = 0;
        }

        foreach (TIn item in items[accepted..])
        {
            Refuse(item);
        }
    }

    public async ValueTask PostManyAsync(ReadOnlyMemory<TIn> items)
    {
        int accepted;
        try
        {
            accepted = await Pool.InvokeManyAsync(items).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            accepted = 0;
        }

        for (int i = accepted; i < items.Length; i++)
        {
            Refuse(items.Span[i]);
        }
    }

    public void Complete() => Pool.Complete();

    public override async Task StopAsync() => _aborted = await Pool.StopAsync(TimeSpan.Zero).ConfigureAwait(false);

    public override StageReport Report() => new StageReport<TIn>(Name, Succeeded, [.. Refused(), .. _aborted], [.. Pool.Failures]);

    public override ValueTask DisposeAsync() => Pool.DisposeAsync();
}

/// <summary>A stage that maps each input to one output through a pool, passing outputs on in its delivery order.</summary>
internal sealed class MapStage<TIn, TOut> : PoolStage<TIn, TOut>
{
    private readonly IStageSink<TOut> _next;
    private readonly Task _forwarding;

    public MapStage(string name, List<Executor<TIn, TOut>> executors, ParallelizeOptions options, IStageSink<TOut> next)
        : base(name)
    {
        Pool = new Parallelize<TIn, TOut>(executors, options);
        _next = next;
        _forwarding = Task.Run(ForwardAsync);
    }

    public override Task Finished => _forwarding;

    protected override Parallelize<TIn, TOut> Pool { get; }

    private async Task ForwardAsync()
    {
        var batch = new List<Core.ResultSink<TIn, TOut>.Entry>(IStageSink<TOut>.Batch);
        var outputs = new TOut[IStageSink<TOut>.Batch];
        try
        {
            // Results in batches, as they come: each batch is one hand-off to the next stage.
            while (await Pool.ReadStreamBatchAsync(batch, IStageSink<TOut>.Batch, CancellationToken.None).ConfigureAwait(false))
            {
                int count = 0;
                foreach (Core.ResultSink<TIn, TOut>.Entry entry in batch)
                {
                    if (entry.Failure is null)
                    {
                        outputs[count++] = entry.Output;
                    }
                }

                batch.Clear();
                CountCompleted(count);
                await _next.PostManyAsync(outputs.AsMemory(0, count)).ConfigureAwait(false);
                if (System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<TOut>())
                {
                    Array.Clear(outputs, 0, count);
                }
            }
        }
        finally
        {
            _next.Complete();
        }
    }
}

/// <summary>
/// A stage that expands each input into many outputs, sending each on as soon as it is produced, from the executor's
/// own thread; outputs of different inputs interleave. An input is tried once: a retry would send its first outputs
/// twice. An input aborted or failed midway has sent some outputs on already; the next stage counts those.
/// </summary>
internal sealed class ManyStage<TIn, TOut> : PoolStage<TIn, long>
{
    private readonly IStageSink<TOut> _next;
    private readonly Task _draining;

    public ManyStage(string name, Func<TIn, IEnumerable<TOut>> expand, int degreeOfParallelism, ParallelizeOptions options, IStageSink<TOut> next)
        : base(name)
    {
        _next = next;
        Func<TIn, CancellationToken, long> executor = (input, cancellationToken) =>
        {
            // Outputs go on in batches of up to IStageSink.Batch, so a hand-off costs little per output while a large
            // item is never held whole.
            TOut[] buffer = System.Buffers.ArrayPool<TOut>.Shared.Rent(IStageSink<TOut>.Batch);
            long sent = 0;
            int held = 0;
            try
            {
                foreach (TOut output in expand(input))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    buffer[held++] = output;
                    if (held == IStageSink<TOut>.Batch)
                    {
                        _next.PostMany(buffer.AsSpan(0, held));
                        sent += held;
                        held = 0;
                    }
                }

                _next.PostMany(buffer.AsSpan(0, held));
                sent += held;
                held = 0;
                return sent;
            }
            finally
            {
                // Outputs made before a fault are passed on: the next stage counts them (see the remarks).
                if (held > 0)
                {
                    _next.PostMany(buffer.AsSpan(0, held));
                }

                System.Buffers.ArrayPool<TOut>.Shared.Return(buffer, System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<TOut>());
            }
        };
        Pool = new Parallelize<TIn, long>(executor, degreeOfParallelism, options);
        _draining = Task.Run(DrainAsync);
    }

    public override Task Finished => _draining;

    protected override Parallelize<TIn, long> Pool { get; }

    private async Task DrainAsync()
    {
        try
        {
            await foreach ((_, Failure<TIn>? failure) in Pool.ReadStreamWithFailuresAsync(CancellationToken.None).ConfigureAwait(false))
            {
                if (failure is null)
                {
                    CountCompleted();
                }
            }
        }
        finally
        {
            _next.Complete();
        }
    }
}

/// <summary>The final, sequential stage: a bounded buffer that one consumer reads, one item at a time.</summary>
internal sealed class FinalStage<T> : RunningStage<T>, IStageSink<T>
{
    private readonly Channel<T> _buffer;
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private List<T> _aborted = [];
    private List<Failure<T>> _failures = [];
    private volatile bool _stopped;

    public FinalStage(string name, int capacity)
        : base(name)
    {
        _buffer = Channel.CreateBounded<T>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    }

    public override Task Finished => _finished.Task;

    public void Post(T item)
    {
        while (!_buffer.Writer.TryWrite(item))
        {
            ValueTask<bool> room = _buffer.Writer.WaitToWriteAsync();
            if (!(room.IsCompleted ? room.Result : room.AsTask().GetAwaiter().GetResult()))
            {
                Refuse(item);
                return;
            }
        }
    }

    public async ValueTask PostAsync(T item)
    {
        try
        {
            await _buffer.Writer.WriteAsync(item).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            Refuse(item);
        }
    }

    public void PostMany(ReadOnlySpan<T> items)
    {
        foreach (T item in items)
        {
            Post(item);
        }
    }

    public async ValueTask PostManyAsync(ReadOnlyMemory<T> items)
    {
        for (int i = 0; i < items.Length; i++)
        {
            T item = items.Span[i];
            if (!_buffer.Writer.TryWrite(item))
            {
                await PostAsync(item).ConfigureAwait(false);
            }
        }
    }

    public void Complete() => _buffer.Writer.TryComplete();

    public override Task StopAsync()
    {
        _stopped = true;
        _buffer.Writer.TryComplete();
        return Task.CompletedTask;
    }

    // Feeds every item to `consume`, in order, until the buffer completes or the pipeline stops; with `sync` it
    // blocks the calling thread between items instead of awaiting, so the consumer runs on that one thread. However
    // it ends, the buffer is closed first and then emptied, so an item is either consumed, failed (the one the
    // consumer threw on), or aborted: never left behind.
    public async Task ConsumeAsync(Action<T> consume, bool sync)
    {
        ChannelReader<T> reader = _buffer.Reader;
        try
        {
            while (!_stopped)
            {
                if (reader.TryRead(out T? item))
                {
                    try
                    {
                        consume(item);
                    }
                    catch (Exception ex)
                    {
                        _failures = [new Failure<T>(item, 1, [ex]) { CallNumber = Succeeded + 1 }];
                        throw;
                    }

                    CountCompleted();
                    continue;
                }

                ValueTask<bool> more = reader.WaitToReadAsync();
                bool available = sync
                    ? (more.IsCompleted ? more.Result : more.AsTask().GetAwaiter().GetResult())
                    : await more.ConfigureAwait(false);
                if (!available)
                {
                    break;
                }
            }
        }
        finally
        {
            _buffer.Writer.TryComplete();
            var aborted = new List<T>();
            while (reader.TryRead(out T? left))
            {
                aborted.Add(left);
            }

            _aborted = aborted;
            _finished.TrySetResult();
        }
    }

    public override StageReport Report() => new StageReport<T>(Name, Succeeded, [.. Refused(), .. _aborted], _failures);

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
