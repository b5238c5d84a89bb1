
namespace Parallelize.Polly;

/// <summary>An asynchronous executor object called inside a pipeline. Owned by the pool; disposing it disposes the executor.</summary>
internal sealed class PipelineAsyncExecutor<TIn, TOut> : IAsyncExecutor<TIn, TOut>, IAsyncDisposable
{
    private readonly Pipeline<TOut> _pipeline;
    private readonly IAsyncExecutor<TIn, TOut> _executor;

    public PipelineAsyncExecutor(Pipeline<TOut> pipeline, IAsyncExecutor<TIn, TOut> executor)
    {
        _pipeline = pipeline;
        _executor = executor;
    }

    /// <summary>Gets the executor the pipeline runs.</summary>
    public IAsyncExecutor<TIn, TOut> Inner => _executor;

    public ValueTask<TOut> ExecuteAsync(TIn input, CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(static (state, token) => state.executor.ExecuteAsync(state.input, token), (executor: _executor, input), cancellationToken);

    public ValueTask DisposeAsync() => Disposal.DisposeAsync(_executor);
}
