namespace Parallelize.Pipelines;

/// <summary>
/// Composes pools into a pipeline: each stage has its own executors and degree of parallelism, the output of one
/// stage feeds the next, and a final sequential stage sees one result at a time.
/// </summary>
/// <remarks>
/// <para>The two pipelines this library grew from read as they are said:</para>
/// <code>
/// // Sum each row of a CSV in parallel; write the sums in input order.
/// Pipeline.From(File.ReadLines(path))
///     .Then(line => line.Split(',').Sum(long.Parse), degreeOfParallelism: 2, ordered: true)
///     .ForEach(sum => writer.WriteLine(sum));
///
/// // Parse several CSV files in parallel, hash every row in parallel, reduce a bloom filter sequentially.
/// Pipeline.From(files)
///     .ThenMany(File.ReadLines, degreeOfParallelism: 2)
///     .Then(Hash, degreeOfParallelism: 2)
///     .Reduce(new BloomFilter(bits, hashes), (filter, hash) =&gt; filter.Add(hash));
/// </code>
/// <para>Every stage is bounded, so the source is read only as fast as the last stage consumes, and memory stays
/// flat. Completion flows down the chain: when the source ends, each stage finishes its calls and then tells the next.
/// Cancelling the run stops every stage, first to last; each stage reports the inputs it aborted.</para>
/// </remarks>
public static class Pipeline
{
    /// <summary>Starts a pipeline from a sequence, read lazily on a background thread.</summary>
    /// <typeparam name="T">The type of the items.</typeparam>
    /// <param name="source">The items.</param>
    /// <returns>A builder to add stages to.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is <see langword="null"/>.</exception>
    public static PipelineBuilder<T> From<T>(IEnumerable<T> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new PipelineBuilder<T>(new Pipelines.SyncSource<T>(source), []);
    }

    /// <summary>Starts a pipeline from an asynchronous sequence, read lazily.</summary>
    /// <typeparam name="T">The type of the items.</typeparam>
    /// <param name="source">The items.</param>
    /// <returns>A builder to add stages to.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is <see langword="null"/>.</exception>
    public static PipelineBuilder<T> From<T>(IAsyncEnumerable<T> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new PipelineBuilder<T>(new Pipelines.AsyncSource<T>(source), []);
    }
}
