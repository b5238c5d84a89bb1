using Polly;

namespace Parallelize.Polly;

/// <summary>Either kind of pipeline, run the same way around a call: a plain <see cref="ResiliencePipeline"/> or one of the result type.</summary>
internal readonly struct Pipeline<TOut>
{
    private readonly ResiliencePipeline? _plain;
    private readonly ResiliencePipeline<TOut>? _typed;

    public Pipeline(ResiliencePipeline plain) => _plain = plain;

    public Pipeline(ResiliencePipeline<TOut> typed) => _typed = typed;

    public TOut Execute<TState>(Func<TState, CancellationToken, TOut> call, TState state, CancellationToken cancellationToken) =>
        _typed is not null ? _typed.Execute(call, state, cancellationToken) : _plain!.Execute(call, state, cancellationToken);

    public ValueTask<TOut> ExecuteAsync<TState>(Func<TState, CancellationToken, ValueTask<TOut>> call, TState state, CancellationToken cancellationToken) =>
        _typed is not null ? _typed.ExecuteAsync(call, state, cancellationToken) : _plain!.ExecuteAsync(call, state, cancellationToken);
}
