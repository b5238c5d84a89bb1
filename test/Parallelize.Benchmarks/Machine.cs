using System.Diagnostics;
using System.Reflection;
using System.Runtime;
using System.Runtime.InteropServices;

namespace Parallelize.Benchmarks;

/// <summary>What the figures were measured on, for the table's header.</summary>
internal static class Machine
{
    /// <summary>One line: OS, CPU model, core count, .NET version, GC mode, and a warning if the library was built without optimizations.</summary>
    public static string Describe()
    {
        string build = IsOptimized(typeof(Parallelize<,>).Assembly) ? "" : " **Debug build of the library: the figures mean nothing; run with `-c Release`.**";
        string gc = GCSettings.IsServerGC ? "server GC" : "workstation GC";
        return $"{OperatingSystem()}, {CpuModel()}, {Environment.ProcessorCount} cores, {RuntimeInformation.FrameworkDescription}, {gc}, tiered JIT with dynamic PGO (defaults).{build}";
    }

    private static string OperatingSystem()
    {
        const string Key = "PRETTY_NAME=";
        string? name = ReadLines("/etc/os-release")
            .FirstOrDefault(line => line.StartsWith(Key, StringComparison.Ordinal))?[Key.Length..].Trim('"');
        string? kernel = ReadLines("/proc/sys/kernel/osrelease").FirstOrDefault()?.Trim();
        return name is null ? RuntimeInformation.OSDescription
            : kernel is null ? name
            : $"{name}, Linux {kernel}";
    }

    private static string CpuModel()
    {
        string? model = ReadLines("/proc/cpuinfo")
            .Where(line => line.StartsWith("model name", StringComparison.Ordinal))
            .Select(line => line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim())
            .FirstOrDefault();
        return string.IsNullOrEmpty(model) ? $"{RuntimeInformation.ProcessArchitecture} CPU (model unknown)" : model;
    }

    private static string[] ReadLines(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (IOException)
        {
            return [];
        }
        catch (UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static bool IsOptimized(Assembly assembly) =>
        assembly.GetCustomAttribute<DebuggableAttribute>() is not { IsJITOptimizerDisabled: true };
}
