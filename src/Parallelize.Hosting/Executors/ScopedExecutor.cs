using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Parallelize.Hosting;

/// <summary>
/// A synchronous executor resolved in a dependency injection scope of its own; disposing it disposes the scope, and
/// with it the executor and every scoped service it was given.
/// </summary>
/// <remarks>
/// The pool creates one through a deferred factory on the executor's worker, calls it from that worker only, and
/// disposes it when it restarts, retires or stops the executor. The scope is disposed asynchronously even here, so a
/// scoped service that is only <see cref="IAsyncDisposable"/> is disposed too (a synchronous scope disposal throws
/// for those); that blocks only the executor's own thread.
/// </remarks>
internal sealed class ScopedExecutor<TIn, TOut> : IExecutor<TIn, TOut>, IDisposable
{
    private readonly AsyncServiceScope _scope;
    private readonly IExecutor<TIn, TOut> _executor;
    private readonly ILogger _logger;
    private int _disposed;

    private ScopedExecutor(AsyncServiceScope scope, IExecutor<TIn, TOut> executor, ILogger logger)
    {
        _scope = scope;
        _executor = executor;
        _logger = logger;
    }

    /// <summary>Gets the executor resolved in the scope.</summary>
    public IExecutor<TIn, TOut> Inner => _executor;

    /// <summary>Creates a scope and resolves <typeparamref name="TExecutor"/> in it; the scope is disposed again if that fails.</summary>
    public static ScopedExecutor<TIn, TOut> Create<TExecutor>(IServiceScopeFactory scopes, ILogger logger)
        where TExecutor : class, IExecutor<TIn, TOut>
    {
        AsyncServiceScope scope = scopes.CreateAsyncScope();
        try
        {
            return new ScopedExecutor<TIn, TOut>(scope, scope.ServiceProvider.GetRequiredService<TExecutor>(), logger);
        }
        catch
        {
            ScopeDisposal.Dispose(scope, logger);
            throw;
        }
    }

    public TOut Execute(TIn input, CancellationToken cancellationToken) => _executor.Execute(input, cancellationToken);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            ScopeDisposal.Dispose(_scope, _logger);
        }
    }
}
