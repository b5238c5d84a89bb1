namespace Parallelize;

/// <summary>
/// A stateful, asynchronous executor. Each instance is called by one pool worker at a time; a worker
/// awaiting an executor holds no thread.
/// </summary>
/// <typeparam name="TIn">The type of the inputs.</typeparam>
/// <typeparam name="TOut">The type of the results.</typeparam>
/// <remarks>
/// Restart, disposal and retry rules are those of <see cref="IExecutor{TIn, TOut}"/>. An implementation
/// should not block the calling thread: asynchronous executors run on the .NET thread pool.
/// </remarks>
public interface IAsyncExecutor<in TIn, TOut>
{
    /// <summary>Processes one input.</summary>
    /// <param name="input">The input, as passed to <see cref="Parallelize{TIn, TOut}.Invoke(TIn)"/> (or as replaced by a <see cref="RetryException"/>).</param>
    /// <param name="cancellationToken">Cancelled when <see cref="Parallelize{TIn, TOut}.Stop(TimeSpan?)"/> gives up waiting for calls in flight.</param>
    /// <returns>The result, appended to <see cref="Parallelize{TIn, TOut}.Results"/>.</returns>
    ValueTask<TOut> ExecuteAsync(TIn input, CancellationToken cancellationToken);
}
