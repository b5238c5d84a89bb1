namespace Parallelize.Pipelines;

/// <summary>Where a pipeline's items come from, fed into its first stage.</summary>
internal abstract class PipelineSource
{
    /// <summary>Feeds every item to <paramref name="first"/>, then completes it; stops reading when <paramref name="stop"/> is cancelled.</summary>
    public abstract Task FeedAsync(object first, CancellationToken stop);
}

/// <summary>A sequence, read on a dedicated background thread so a blocking source never holds a thread-pool thread.</summary>
internal sealed class SyncSource<T>(IEnumerable<T> items) : PipelineSource
{
    public override Task FeedAsync(object first, CancellationToken stop)
    {
        var sink = (IStageSink<T>)first;
        return Task.Factory.StartNew(
            () =>
            {
                T[] chunk = System.Buffers.ArrayPool<T>.Shared.Rent(IStageSink<T>.Batch);
                int held = 0;
                try
                {
                    // Look at the stop before taking the next item: an item taken is always posted, and a sink that
                    // refuses it reports it as aborted, so no item read from the source goes unaccounted for. Items go
                    // on in chunks, one hand-off each.
                    using IEnumerator<T> reader = items.GetEnumerator();
                    while (!stop.IsCancellationRequested && reader.MoveNext())
                    {
                        chunk[held++] = reader.Current;
                        if (held == chunk.Length)
                        {
                            sink.PostMany(chunk.AsSpan(0, held));
                            held = 0;
                        }
                    }
                }
                finally
                {
                    sink.PostMany(chunk.AsSpan(0, held));
                    System.Buffers.ArrayPool<T>.Shared.Return(chunk, System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<T>());
                    sink.Complete();
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
    }
}

/// <summary>An asynchronous sequence, read by one asynchronous loop.</summary>
internal sealed class AsyncSource<T>(IAsyncEnumerable<T> items) : PipelineSource
{
    public override async Task FeedAsync(object first, CancellationToken stop)
    {
        var sink = (IStageSink<T>)first;
        var chunk = new T[IStageSink<T>.Batch];
        int held = 0;
        try
        {
            // Items go on in chunks, and whenever the source makes the reader wait: a slow source's items never wait
            // for the chunk to fill.
            IAsyncEnumerator<T> reader = items.GetAsyncEnumerator(stop);
            await using (reader.ConfigureAwait(false))
            {
                while (true)
                {
                    ValueTask<bool> next = reader.MoveNextAsync();
                    if (!next.IsCompleted && held > 0)
                    {
                        await sink.PostManyAsync(chunk.AsMemory(0, held)).ConfigureAwait(false);
                        held = 0;
                    }

                    if (!await next.ConfigureAwait(false))
                    {
                        break;
                    }

                    chunk[held++] = reader.Current;
                    if (held == chunk.Length)
                    {
                        await sink.PostManyAsync(chunk.AsMemory(0, held)).ConfigureAwait(false);
                        held = 0;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped: the items not read are not the pipeline's.
        }
        finally
        {
            await sink.PostManyAsync(chunk.AsMemory(0, held)).ConfigureAwait(false);
            sink.Complete();
        }
    }
}
