using System.Reflection;
using System.Runtime.InteropServices;

namespace Parallelize.Isolation;

/// <summary>
/// The few POSIX calls process isolation needs and .NET has no API for: moving file descriptors (so that stray
/// writes to standard output cannot reach the protocol), process groups (so that a worker's children die with it)
/// and sending signals other than SIGKILL.
/// </summary>
/// <remarks>
/// Only called on Linux and macOS (<see cref="IsSupported"/>). <c>libc</c> is resolved as <c>libc.so.6</c> on Linux,
/// since a bare <c>libc.so</c> is a linker script on glibc systems, present only with the development files.
/// </remarks>
internal static partial class Posix
{
    public const int SigKill = 9;
    public const int SigTerm = 15;
    public const int SigInt = 2;

    private const string LibC = "libc";
    private const int FGetFd = 1;
    private const int FSetFd = 2;
    private const int FdCloExec = 1;

    static Posix()
    {
        if (OperatingSystem.IsLinux())
        {
            NativeLibrary.SetDllImportResolver(typeof(Posix).Assembly, Resolve);
        }
    }

    /// <summary>Gets a value indicating whether this platform has the calls (Linux or macOS).</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() || OperatingSystem.IsMacOS();

    /// <summary>Sends <paramref name="signal"/> to a process, or to a process group when <paramref name="pid"/> is negative.</summary>
    /// <returns><see langword="true"/> if the signal was sent; <see langword="false"/> if there is no such process (or group).</returns>
    public static bool Kill(int pid, int signal) => IsSupported && kill(pid, signal) == 0;

    /// <summary>Makes the calling process the leader of a new process group whose id is its pid.</summary>
    public static bool MakeProcessGroupLeader() => IsSupported && setpgid(0, 0) == 0;

    /// <summary>Duplicates <paramref name="fd"/> onto a new descriptor that is closed in programs this process starts.</summary>
    /// <returns>The new descriptor.</returns>
    public static int DuplicateCloseOnExec(int fd)
    {
        int copy = dup(fd);
        if (copy < 0)
        {
            throw new IOException($"dup({fd}) failed with errno {Marshal.GetLastPInvokeError()}.");
        }

        int flags = fcntl(copy, FGetFd, 0);
        if (flags < 0 || fcntl(copy, FSetFd, flags | FdCloExec) < 0)
        {
            throw new IOException($"fcntl({copy}, F_SETFD) failed with errno {Marshal.GetLastPInvokeError()}.");
        }

        return copy;
    }

    /// <summary>Makes <paramref name="target"/> refer to what <paramref name="source"/> refers to.</summary>
    public static void Redirect(int source, int target)
    {
        if (dup2(source, target) < 0)
        {
            throw new IOException($"dup2({source}, {target}) failed with errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    /// <summary>Ends the process at once with <paramref name="code"/>: no finalizers, no exit handlers, no flushing.</summary>
    public static void ExitNow(int code)
    {
        if (IsSupported)
        {
            _exit(code);
        }

        Environment.FailFast($"Exit {code} requested.");
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name == LibC && NativeLibrary.TryLoad("libc.so.6", assembly, searchPath, out IntPtr handle))
        {
            return handle;
        }

        return IntPtr.Zero;
    }

#pragma warning disable SYSLIB1054 // DllImport keeps the library free of AllowUnsafeBlocks; every signature is blittable.
#pragma warning disable CA5392 // Only libc, resolved by name.
    [DllImport(LibC, SetLastError = true)]
    private static extern int kill(int pid, int sig);

    [DllImport(LibC, SetLastError = true)]
    private static extern int setpgid(int pid, int pgid);

    [DllImport(LibC, SetLastError = true)]
    private static extern int dup(int fd);

    [DllImport(LibC, SetLastError = true)]
    private static extern int dup2(int oldfd, int newfd);

    [DllImport(LibC, SetLastError = true)]
    private static extern int fcntl(int fd, int cmd, int arg);

    [DllImport(LibC)]
    private static extern void _exit(int status);
#pragma warning restore CA5392
#pragma warning restore SYSLIB1054
}
