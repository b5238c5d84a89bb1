using System.Globalization;
using System.Net;

/// <summary>Where the example's silos listen: loopback only, silo i on <c>base + i</c> and its gateway on <c>gateway base + i</c>.</summary>
internal sealed record Endpoints(int Silos, int BasePort, int GatewayBasePort)
{
    public const string ClusterId = "parallelize-example";

    public IPEndPoint Silo(int index) => new(IPAddress.Loopback, BasePort + index);

    public IPEndPoint Gateway(int index) => new(IPAddress.Loopback, GatewayBasePort + index);

    public IPEndPoint[] Gateways => [.. Enumerable.Range(0, Silos).Select(Gateway)];

    public static string SiloName(int index) => string.Create(CultureInfo.InvariantCulture, $"silo{index}");
}
