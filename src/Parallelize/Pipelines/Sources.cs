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
                try
                {
                    // Look at the stop before taking the next item: an item taken is always posted, and a sink that
                    // refuses it reports it as aborted, so no item read from the source goes unaccounted for.
                    using IEnumerator<T> reader = items.GetEnumerator();
                    while (!stop.IsCancellationRequested && reader.MoveNext())
                    {
                        sink.Post(reader.Current);
                    }
                }
                finally
                {
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
        try
        {
            await foreach (T item in items.WithCancellation(stop).ConfigureAwait(false))
            {
                await sink.PostAsync(item).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped: the items not read are not the pipeline's.
        }
        finally
        {
            sink.Complete();
        }
    }
}
