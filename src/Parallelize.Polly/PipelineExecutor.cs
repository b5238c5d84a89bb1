
namespace Parallelize.Polly;

/// <summary>A synchronous executor object called inside a pipeline. Owned by the pool; disposing it disposes the executor.</summary>
internal sealed class PipelineExecutor<TIn, TOut> : IExecutor<TIn, TOut>, IDisposable
{
    private readonly Pipeline<TOut> _pipeline;
    private readonly IExecutor<TIn, TOut> _executor;

    public PipelineExecutor(Pipeline<TOut> pipeline, IExecutor<TIn, TOut> executor)
    {
        _pipeline = pipeline;
        _executor = executor;
    }

    /// <summary>Gets the executor the pipeline runs.</summary>
    public IExecutor<TIn, TOut> Inner => _executor;

    public TOut Execute(TIn input, CancellationToken cancellationToken) =>
        _pipeline.Execute(static (state, token) => state.executor.Execute(state.input, token), (executor: _executor, input), cancellationToken);

    // The pool swallows and counts an exception from Dispose, as for any executor; the one this wraps is the user's.
    public void Dispose() => Disposal.Dispose(_executor);
}
