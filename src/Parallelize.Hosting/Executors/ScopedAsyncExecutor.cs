using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Parallelize.Hosting;

/// <summary>
/// An asynchronous executor resolved in a dependency injection scope of its own; disposing it disposes the scope, and
/// with it the executor and every scoped service it was given.
/// </summary>
/// <remarks>The pool creates one through a deferred factory, calls it from one worker at a time, and disposes it when it restarts, retires or stops the executor.</remarks>
internal sealed class ScopedAsyncExecutor<TIn, TOut> : IAsyncExecutor<TIn, TOut>, IAsyncDisposable
{
    private readonly AsyncServiceScope _scope;
    private readonly IAsyncExecutor<TIn, TOut> _executor;
    private readonly ILogger _logger;
    private int _disposed;

    private ScopedAsyncExecutor(AsyncServiceScope scope, IAsyncExecutor<TIn, TOut> executor, ILogger logger)
    {
        _scope = scope;
        _executor = executor;
        _logger = logger;
    }

    /// <summary>Gets the executor resolved in the scope.</summary>
    public IAsyncExecutor<TIn, TOut> Inner => _executor;

    /// <summary>Creates a scope and resolves <typeparamref name="TExecutor"/> in it; the scope is disposed again if that fails.</summary>
    public static async ValueTask<IAsyncExecutor<TIn, TOut>> CreateAsync<TExecutor>(IServiceScopeFactory scopes, ILogger logger)
        where TExecutor : class, IAsyncExecutor<TIn, TOut>
    {
        AsyncServiceScope scope = scopes.CreateAsyncScope();
        try
        {
            return new ScopedAsyncExecutor<TIn, TOut>(scope, scope.ServiceProvider.GetRequiredService<TExecutor>(), logger);
        }
        catch
        {
            await ScopeDisposal.DisposeAsync(scope, logger).ConfigureAwait(false);
            throw;
        }
    }

    public ValueTask<TOut> ExecuteAsync(TIn input, CancellationToken cancellationToken) => _executor.ExecuteAsync(input, cancellationToken);

    public ValueTask DisposeAsync() =>
        Interlocked.Exchange(ref _disposed, 1) == 0 ? ScopeDisposal.DisposeAsync(_scope, _logger) : ValueTask.CompletedTask;
}
