using System.Runtime.InteropServices;

namespace Parallelize.Core;

/// <summary>A sleep shorter than a millisecond, for an idle runner keeping watch over stuck leases.</summary>
/// <remarks>
/// .NET's own sleeps and timed waits count whole milliseconds. On Linux, macOS and the BSDs the C library's
/// <c>usleep</c> sleeps for microseconds (plus the kernel's timer slack, about 50 µs on Linux), which keeps the bound on
/// how long a stuck lease holds calls back at a few hundred microseconds while costing a watching runner nothing but a
/// wake-up per interval. Elsewhere it falls back to <see cref="Thread.Sleep(int)"/> of one millisecond.
/// </remarks>
internal static partial class PreciseSleep
{
    /// <summary>How long an idle runner sleeps between looks at the other runners' leases.</summary>
    public static readonly TimeSpan WatchInterval = TimeSpan.FromMicroseconds(100);

    private static readonly bool CanSleepMicroseconds =
        OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD();

    private static volatile bool s_unavailable;

    /// <summary>Sleeps for about <see cref="WatchInterval"/>.</summary>
    public static void Watch()
    {
        if (CanSleepMicroseconds && !s_unavailable)
        {
            try
            {
                _ = Usleep((uint)WatchInterval.TotalMicroseconds);
                return;
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
                s_unavailable = true;
            }
        }

        Thread.Sleep(1);
    }

    [DllImport("libc", EntryPoint = "usleep")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Usleep(uint microseconds);
}
