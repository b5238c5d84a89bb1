namespace Parallelize;

/// <summary>
/// A stateful, synchronous executor: the .NET counterpart of a callable instance handed to the original
/// <c>Parallelize</c>. Each instance is called by one pool worker at a time, on that worker's own thread.
/// </summary>
/// <typeparam name="TIn">The type of the inputs.</typeparam>
/// <typeparam name="TOut">The type of the results.</typeparam>
/// <remarks>
/// <para>An executor that throws is restarted: a deferred executor is disposed and created again by its
/// factory; an instance given directly is kept. If the executor implements <see cref="IDisposable"/> or
/// <see cref="IAsyncDisposable"/> the pool disposes it when it is replaced, retired, or when the pool stops.</para>
/// <para>Throw <see cref="RetryException"/> to ask for the input to be tried again without counting a fault.</para>
/// </remarks>
public interface IExecutor<in TIn, out TOut>
{
    /// <summary>Processes one input.</summary>
    /// <param name="input">The input, as passed to <see cref="Parallelize{TIn, TOut}.Invoke(TIn)"/> (or as replaced by a <see cref="RetryException"/>).</param>
    /// <param name="cancellationToken">Cancelled when <see cref="Parallelize{TIn, TOut}.Stop(TimeSpan?)"/> gives up waiting for calls in flight.</param>
    /// <returns>The result, appended to <see cref="Parallelize{TIn, TOut}.Results"/>.</returns>
    TOut Execute(TIn input, CancellationToken cancellationToken);
}
