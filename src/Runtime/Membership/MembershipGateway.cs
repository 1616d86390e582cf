using AlignCluster.Runtime.Messaging;
using AlignCluster.Runtime.Protos;
using AlignCluster.Runtime.Transport;

namespace AlignCluster.Runtime.Membership;

/// <summary>
/// Serves MEMBERSHIP requests: clients that know only a gateway endpoint and the cluster key learn the silos from
/// here instead of reading the storage account. Also converts snapshots to and from their wire form.
/// </summary>
public sealed class MembershipGateway(IMembershipView membership) : IEnvelopeHandler
{
    public ValueTask<Envelope?> HandleAsync(Envelope request, CancellationToken cancellationToken)
    {
        var response = Envelopes.Success(request);
        response.Membership = ToWire(membership.Current);
        return ValueTask.FromResult<Envelope?>(response);
    }

    public static MembershipView ToWire(MembershipSnapshot snapshot)
    {
        var view = new MembershipView { Version = snapshot.Version };
        foreach (var silo in snapshot.Silos)
        {
            var row = new SiloRow { Address = silo.Address.ToString(), Status = (int)silo.Status };
            foreach (var d in silo.Devices) row.Devices.Add(new Device { Id = d.Id, Kind = d.Kind, MemoryBytes = d.MemoryBytes });
            foreach (var (k, v) in silo.Metadata) row.Metadata[k] = v;
            view.Silos.Add(row);
        }
        return view;
    }

    public static MembershipSnapshot FromWire(MembershipView view) => new(view.Version, view.Silos
        .Select(r => new SiloInfo(SiloAddress.Parse(r.Address), (SiloStatus)r.Status,
            r.Devices.Select(d => new DeviceInfo(d.Id, d.Kind, d.MemoryBytes)).ToArray(),
            new Dictionary<string, string>(r.Metadata)))
        .OrderBy(s => s.Address).ToArray());
}
