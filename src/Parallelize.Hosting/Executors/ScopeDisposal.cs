using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Parallelize.Hosting;

/// <summary>Disposes an executor's scope without throwing: a service whose disposal fails is logged, and the pool carries on.</summary>
internal static class ScopeDisposal
{
    public static void Dispose(AsyncServiceScope scope, ILogger logger)
    {
        try
        {
            scope.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
#pragma warning disable CA1031 // Dispose never throws: the failure is the user's service's, and it is logged.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            HostingLog.ScopeDisposalFailed(logger, ex);
        }
    }

    public static async ValueTask DisposeAsync(AsyncServiceScope scope, ILogger logger)
    {
        try
        {
            await scope.DisposeAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // As above.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            HostingLog.ScopeDisposalFailed(logger, ex);
        }
    }
}
